#include "runtime/traced_memory.h"

#include <algorithm>
#include <atomic>

#include "runtime/site_counters.h"

namespace heapsnap::traced_memory {
namespace {

// Each on a cache line of its own: the pool is written only when a thread's headroom runs out or
// overflows, the peak only when it rises, the epoch only on resets.
alignas(64) std::atomic<std::int64_t> g_pool{0};   // headroom below the window's peak that no thread holds
// The highest total since tracing started or reset_peak() (g_peak), and since the current window began
// (g_window_peak, <= g_peak): the headroom is below the window's, which rises exactly as the whole
// run's did before windows; the whole run's is the highest the window's ever was.
alignas(64) std::atomic<std::int64_t> g_peak{0};
alignas(64) std::atomic<std::int64_t> g_window_peak{0};
alignas(64) std::atomic<std::uint64_t> g_epoch{1};  // a thread's headroom from an older epoch is void
// Bytes of threads that could get no counter table (out of memory): counted here instead.
alignas(64) std::atomic<std::int64_t> g_tableless{0};
// The peak at which the next per-site view of the peak is taken (site_counters::capture_peak_view).
alignas(64) std::atomic<std::int64_t> g_next_view{0};

// Raises the whole run's peak to `window_peak` if it is higher; whether `window_peak` is the whole
// run's peak now.
bool raise_whole_peak(std::int64_t window_peak) noexcept {
  std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (peak < window_peak && !g_peak.compare_exchange_weak(peak, window_peak, std::memory_order_relaxed)) {
  }
  return window_peak >= peak;
}

[[gnu::noinline]] void take_peak_view(std::int64_t window_peak, bool whole_too) noexcept {
  g_next_view.store(window_peak + std::max(kMinViewStep, window_peak / kViewStepDivisor), std::memory_order_relaxed);
  site_counters::capture_peak_view(true, whole_too);
}

// Takes `need` bytes from the pool, and a chunk more while the pool is well above that, so that
// the next allocations of this thread need no shared write. Raises the peak by what the pool cannot
// cover.
[[gnu::noinline]] std::int64_t draw_from_pool(std::int64_t need) noexcept {
  std::int64_t pool = g_pool.load(std::memory_order_relaxed);
  while (pool >= need + kHeadroomChunk) {  // a CAS, never below zero: others may be drawing too
    if (g_pool.compare_exchange_weak(pool, pool - need - kHeadroomChunk, std::memory_order_relaxed)) return kHeadroomChunk;
  }
  const std::int64_t before = g_pool.fetch_sub(need, std::memory_order_relaxed);
  if (before >= need) return 0;
  // A new peak, by as much as this allocation goes beyond it. The pool stays what it was: empty.
  const std::int64_t beyond = need - std::max<std::int64_t>(before, 0);
  const std::int64_t window_peak = g_window_peak.fetch_add(beyond, std::memory_order_relaxed) + beyond;
  g_pool.fetch_add(beyond, std::memory_order_relaxed);
  const bool whole = raise_whole_peak(window_peak);
  if (window_peak >= g_next_view.load(std::memory_order_relaxed)) [[unlikely]] take_peak_view(window_peak, whole);
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
  const std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  const std::int64_t window_peak = g_window_peak.load(std::memory_order_relaxed);
  return {current, std::max(peak, current), std::max(window_peak, current)};
}

void start_peak_window() noexcept {
  g_epoch.fetch_add(1, std::memory_order_relaxed);  // every thread's headroom is now void
  const std::int64_t current = std::max<std::int64_t>(current_bytes(), 0);
  g_pool.store(0, std::memory_order_relaxed);
  g_window_peak.store(current, std::memory_order_relaxed);
  site_counters::clear_peak_view(site_counters::PeakWindow::SincePrevious);
  take_peak_view(current, raise_whole_peak(current));  // now is the window's peak, until the total passes it
}

void reset_peak() noexcept {
  // The whole run's peak starts over from now, and so does the window (which never exceeds it).
  g_peak.store(std::max<std::int64_t>(current_bytes(), 0), std::memory_order_relaxed);
  start_peak_window();
}

void reset() noexcept {
  g_epoch.fetch_add(1, std::memory_order_relaxed);
  g_tableless.store(0, std::memory_order_relaxed);
  g_pool.store(0, std::memory_order_relaxed);
  g_peak.store(0, std::memory_order_relaxed);
  g_window_peak.store(0, std::memory_order_relaxed);
  g_next_view.store(0, std::memory_order_relaxed);
}

}  // namespace heapsnap::traced_memory
