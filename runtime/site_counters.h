#pragma once
// Live bytes and blocks per allocation site, kept in process: each thread adds to a table of its own
// for the blocks it allocates and frees (a free may subtract from a site another thread allocated
// at: only the sum over tables means anything), and a snapshot sums the tables. So a snapshot costs
// time in proportion to sites × threads, not to live blocks. No lock, no shared cache line on the
// allocation path; a table outlives its thread and is reused by a later one.
//
// Exact as long as clear_traces()/stop() are not called while other threads allocate (they zero the
// tables, and an update racing with that is lost); the heap walk is the reference (snapshot_builder).

#include <atomic>
#include <cstdint>
#include <vector>

#include "allocator/site_tag.h"

namespace heapsnap::site_counters {

// A traced block of `bytes` at `address` was allocated at `site` / freed. Besides the live totals, a
// site counts its allocations and the bytes they asked for since tracing started, and its temporary
// allocations: blocks whose free was the next thing their thread did with the allocator, no other
// allocation or free in between (heaptrack's definition, per thread here where heaptrack's is per
// process; each thread remembers its last traced allocation until its next free).
void allocated(alloc::SiteTag site, std::int64_t bytes, const void* address) noexcept;
void freed(alloc::SiteTag site, std::int64_t bytes, const void* address) noexcept;
// One call to an allocation function while tracing (traced or not: what heaptrack calls "calls").
void count_call() noexcept;

// This thread's share of the traced-memory counters (traced_memory.cpp): the bytes it traced minus
// those it untraced, and the headroom below the peak it holds. Written by its thread only; a table,
// and so this, outlives its thread.
struct ThreadTraced {
  std::atomic<std::int64_t> bytes{0};
  std::int64_t headroom = 0;
  std::uint64_t epoch = 0;
};
// The calling thread's, or null when no table could be made.
ThreadTraced* thread_traced() noexcept;
// The bytes of every thread's ThreadTraced, summed.
std::int64_t traced_bytes_sum() noexcept;

struct SiteTotal {
  alloc::SiteTag site;
  std::int64_t bytes;
  std::int64_t blocks;
};
// The sites with live blocks, summed over every thread's table. False when some site was beyond the
// tables' reach (more than kMaxSites sites): use the heap walk then.
bool live_by_site(std::vector<SiteTotal>& out);
std::uint64_t allocation_calls() noexcept;

// What each site allocated since tracing started (the counters above), summed over every thread's
// table: the sites with at least one allocation. False beyond the tables' reach, as live_by_site.
struct SiteActivity {
  alloc::SiteTag site;
  std::uint64_t calls;
  std::uint64_t allocated_bytes;
  std::uint64_t temporary;
};
bool activity_by_site(std::vector<SiteActivity>& out);

// The per-site live totals at the traced-memory peak: of the whole run (since tracing started or the
// last reset_peak()), and of the window since the previous numbered snapshot (traced_memory.h). The
// window's view is taken whenever its peak passes the last view by a step (traced_memory.h calls
// capture_peak_view), on the allocating thread, and is the whole run's too when the window's peak is
// the whole run's. capture_peak_view takes the sites' totals now as the window's view, the whole
// run's, or both. `total` is the sum of a view's sites. One capture runs at a time; a capture that
// finds another under way is skipped.
enum class PeakWindow { Whole, SincePrevious };
void capture_peak_view(bool window, bool whole) noexcept;
struct PeakView {
  std::int64_t total = 0;
  std::vector<SiteTotal> sites;
};
PeakView peak_view(PeakWindow window);
std::int64_t peak_view_total(PeakWindow window) noexcept;  // peak_view(window).total, without the sites
// A view is forgotten (both with reset(); the window's when a new window starts).
void clear_peak_view(PeakWindow window) noexcept;
// In a forked child: a capture another thread had under way at the fork never ends there.
void after_fork_in_child() noexcept;
// Live traced blocks of heapsnap's arena, summed over every table: what a heap walk will find, less
// the untraced blocks (an estimate for sizing, exact when nothing allocates meanwhile).
std::int64_t live_blocks() noexcept;
void reset() noexcept;

inline constexpr std::uint32_t kMaxSites = 4096 * 1024;

}  // namespace heapsnap::site_counters
