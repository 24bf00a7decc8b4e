#pragma once
// The traced-memory counters behind get_traced_memory(): the bytes of traced blocks now (current) and
// their highest total since tracing started or reset_peak() (peak), kept without a shared write on
// most allocations and frees.
//
// Current is exact: each thread adds its own allocations and frees to a counter of its own
// (site_counters::ThreadTraced), and a reader sums them. The peak needs the total at every
// allocation, which per-thread counters do not give; instead every thread holds some headroom, bytes
// it may allocate without the total passing the peak, taken from (and given back to) a shared pool
// a chunk at a time. A thread's frees add to its headroom; an allocation within its headroom cannot
// make a new peak. One that goes past it draws on the pool, and one that the pool cannot cover raises
// the peak by exactly the shortfall. With one allocating thread that is the exact peak. With several,
// the headroom other threads hold at that moment is not seen, so the peak may be above the true one
// by at most kMaxThreadHeadroom per other thread; never below it.

#include <cstdint>

namespace heapsnap::traced_memory {

inline constexpr std::int64_t kHeadroomChunk = 64 * 1024;
inline constexpr std::int64_t kMaxThreadHeadroom = 4 * kHeadroomChunk;

// Who held the memory at the peak: whenever the peak passes the last per-site view by a step, a new
// view of every site's live bytes is taken (site_counters::capture_peak_view), on the allocating
// thread. The step is max(kMinViewStep, peak / kViewStepDivisor): a view's total is within a step of
// the peak (plus, with several threads, the headroom bound above), and a peak that grows to P takes
// about kViewStepDivisor * ln(P / kMinViewStep) views in all. A snapshot at a total at least the last
// view's takes a view first (runtime/snapshot_builder.cpp).
inline constexpr std::int64_t kMinViewStep = 4 * 1024;
inline constexpr std::int64_t kViewStepDivisor = 64;

// `bytes` > 0: traced blocks of that many bytes were allocated; < 0: freed.
void add(std::int64_t bytes) noexcept;

struct Totals {
  std::int64_t current;
  std::int64_t peak;         // since tracing started or reset_peak()
  std::int64_t window_peak;  // since the current window began (start_peak_window), <= peak
};
Totals totals() noexcept;

// Starts a new window of the peak: what numbered (interval) snapshots report, the peak since the
// previous one. The whole run's peak, get_traced_memory()'s, is not touched. Allocations racing with
// it may count for the old window.
void start_peak_window() noexcept;

// The peak becomes the current total, and a new window starts. Allocations racing with it may count
// for the old peak.
void reset_peak() noexcept;
// Both become 0 (with site_counters::reset(), which zeroes the per-thread counters).
void reset() noexcept;

}  // namespace heapsnap::traced_memory
