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

void allocated(alloc::SiteTag site, std::int64_t bytes) noexcept;
void freed(alloc::SiteTag site, std::int64_t bytes) noexcept;
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
// Live traced blocks of heapsnap's arena, summed over every table: what a heap walk will find, less
// the untraced blocks (an estimate for sizing, exact when nothing allocates meanwhile).
std::int64_t live_blocks() noexcept;
void reset() noexcept;

inline constexpr std::uint32_t kMaxSites = 4096 * 1024;

}  // namespace heapsnap::site_counters
