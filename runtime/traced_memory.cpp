#include "runtime/traced_memory.h"

#include <algorithm>
#include <atomic>

#include "runtime/site_counters.h"

namespace heapsnap::traced_memory {
namespace {

// Each on a cache line of its own: the pool is written only when a thread's headroom runs out or
// overflows, the peak only when it rises, the epoch only on resets.
alignas(64) std::atomic<std::int64_t> g_pool{0};   // headroom below the window's peak that no thread holds
// The highest total since the current window began (g_window_peak), and the whole run's highest
// before it, since tracing started or reset_peak() (g_peak): the whole run's peak is the larger of the
// two, folded into g_peak when a window ends, so that a new peak costs one shared write, not two. The
// headroom is below the window's, which rises exactly as the whole run's did before windows.
alignas(64) std::atomic<std::int64_t> g_peak{0};
alignas(64) std::atomic<std::int64_t> g_window_peak{0};
alignas(64) std::atomic<std::uint64_t> g_epoch{1};  // a thread's headroom from an older epoch is void
// Bytes of threads that could get no counter table (out of memory): counted here instead.
alignas(64) std::atomic<std::int64_t> g_tableless{0};
// The peak at which the next per-site view of the peak is taken (site_counters::capture_peak_view).
alignas(64) std::atomic<std::int64_t> g_next_view{0};

// Whether `window_peak`, the window's peak just reached, is the whole run's peak too.
bool is_whole_peak(std::int64_t window_peak) noexcept { return window_peak >= g_peak.load(std::memory_order_relaxed); }

// Raises what g_peak holds (the whole run's peak before the current window) to `peak` if higher.
void raise_whole_peak(std::int64_t peak) noexcept {
  std::int64_t whole = g_peak.load(std::memory_order_relaxed);
  while (whole < peak && !g_peak.compare_exchange_weak(whole, peak, std::memory_order_relaxed)) {
  }
}

[[gnu::noinline]] void take_peak_view(std::int64_t window_peak, bool whole_too) noexcept {
  g_next_view.store(window_peak + std::max(kMinViewStep, window_peak / kViewStepDivisor), std::memory_order_relaxed);
  site_counters::capture_peak_view(true, whole_too);
}

// Takes `need` bytes from the pool, and a chunk more while the pool is well above that, so that
// the next allocations of this thread need no shared write. Raises the peak by what the pool cannot
// cover. The pool never goes below zero (a CAS, as others may be drawing too); a heap that only grows
// finds it empty and pays one shared write per new peak, the window's peak.
[[gnu::noinline]] std::int64_t draw_from_pool(std::int64_t need) noexcept {
  std::int64_t pool = g_pool.load(std::memory_order_relaxed);
  while (true) {
    if (pool >= need) {
      const std::int64_t take = pool >= need + kHeadroomChunk ? need + kHeadroomChunk : need;
      if (g_pool.compare_exchange_weak(pool, pool - take, std::memory_order_relaxed)) return take - need;
    } else if (pool <= 0 || g_pool.compare_exchange_weak(pool, 0, std::memory_order_relaxed)) {
      break;  // took what the pool held (pool), if anything
    }
  }
  // A new peak, by as much as this allocation goes beyond it.
  const std::int64_t beyond = need - std::max<std::int64_t>(pool, 0);
  const std::int64_t window_peak = g_window_peak.fetch_add(beyond, std::memory_order_relaxed) + beyond;
  if (window_peak >= g_next_view.load(std::memory_order_relaxed)) [[unlikely]] take_peak_view(window_peak, is_whole_peak(window_peak));
  return 0;
}

std::int64_t current_bytes() noexcept {
  return site_counters::traced_bytes_sum() + g_tableless.load(std::memory_order_relaxed);
}

}  // namespace

void add(std::int64_t bytes) noexcept {
  site_counters::ThreadTraced* own = site_counters::thread_traced();
  if (own == nullptr) [[unlikely]] {
    g_tableless.fetch_add(bytes, std::memory_order_relaxed);
    if (bytes > 0) draw_from_pool(bytes);
    else g_pool.fetch_add(-bytes, std::memory_order_relaxed);
    return;
  }
  own->bytes.store(own->bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
  const std::uint64_t epoch = g_epoch.load(std::memory_order_relaxed);
  if (own->epoch != epoch) [[unlikely]] {
    own->epoch = epoch;
    own->headroom = 0;
  }
  if (bytes <= 0) {  // a free: room for as much again
    own->headroom -= bytes;
    if (own->headroom > kMaxThreadHeadroom) [[unlikely]] {
      g_pool.fetch_add(own->headroom - kHeadroomChunk, std::memory_order_relaxed);
      own->headroom = kHeadroomChunk;
    }
    return;
  }
  if (own->headroom >= bytes) [[likely]] {
    own->headroom -= bytes;
    return;
  }
  const std::int64_t need = bytes - own->headroom;
  own->headroom = draw_from_pool(need);
}

Totals totals() noexcept {
  const std::int64_t current = current_bytes();
  const std::int64_t window_peak = g_window_peak.load(std::memory_order_relaxed);
  const std::int64_t peak = std::max(g_peak.load(std::memory_order_relaxed), window_peak);
  return {current, std::max(peak, current), std::max(window_peak, current)};
}

namespace {

// A new window from now. With `keep_whole`, the ending window's peak is folded into the whole run's;
// without, the whole run's peak starts over from now too.
void begin_window(bool keep_whole) noexcept {
  g_epoch.fetch_add(1, std::memory_order_relaxed);  // every thread's headroom is now void
  const std::int64_t current = std::max<std::int64_t>(current_bytes(), 0);
  g_pool.store(0, std::memory_order_relaxed);
  if (keep_whole) {
    // Folded before the window restarts, so that a reader never sees the whole run's peak drop; and
    // again with what the exchange returns, which holds any peak another thread raised meanwhile.
    raise_whole_peak(g_window_peak.load(std::memory_order_relaxed));
    raise_whole_peak(std::max(g_window_peak.exchange(current, std::memory_order_relaxed), current));
  } else {
    g_peak.store(current, std::memory_order_relaxed);
    g_window_peak.store(current, std::memory_order_relaxed);
  }
  site_counters::clear_peak_view(site_counters::PeakWindow::SincePrevious);
  take_peak_view(current, is_whole_peak(current));  // now is the window's peak, until the total passes it
}

}  // namespace

void start_peak_window() noexcept { begin_window(/*keep_whole=*/true); }

void reset_peak() noexcept { begin_window(/*keep_whole=*/false); }

void reset() noexcept {
  g_epoch.fetch_add(1, std::memory_order_relaxed);
  g_tableless.store(0, std::memory_order_relaxed);
  g_pool.store(0, std::memory_order_relaxed);
  g_peak.store(0, std::memory_order_relaxed);
  g_window_peak.store(0, std::memory_order_relaxed);
  g_next_view.store(0, std::memory_order_relaxed);
}

}  // namespace heapsnap::traced_memory
