#pragma once
// The tracing state shared by every interposed entry point: whether tracing is on, how deep to
// capture, and the traced-memory counters. Internal to the in-process runtime.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "allocator/allocator.h"
#include "runtime/recursion_guard.h"

namespace heapsnap::tracing {

inline std::atomic<bool> g_enabled{false};
inline std::atomic<std::uint32_t> g_depth{1};  // traceback limit
// 0: every allocation is traced (exact). Otherwise the mean number of bytes between two sampled
// allocations: a thread samples when its byte countdown, drawn from an exponential distribution,
// runs out (as tcmalloc and jemalloc do), and each sampled block stands for sample_weight() bytes.
inline std::atomic<std::uint64_t> g_sample_bytes{0};

inline bool is_traced(alloc::SiteTag site) noexcept { return site >= alloc::SiteTag::FirstTraced; }

// The stack of an allocation being made while tracing: see site_for_allocation. Out of line, so that
// the frames it skips are always `skip` plus its own.
alloc::SiteTag traced_site_for_allocation(std::uint32_t skip, std::size_t size) noexcept;

// The site of an allocation of `size` bytes being made now: the interned stack of the caller's caller
// when tracing (skipping `skip` heapsnap frames above traced_site_for_allocation) and, in sampling
// mode, when the allocation is sampled; Internal when heapsnap itself (or a signal handler
// interrupting it) allocates; NotTracing while tracing is off; Untraced otherwise. Inline: a dormant
// process (heapsnap's allocator, not tracing) pays two predicted branches, not a call.
[[gnu::always_inline]] inline alloc::SiteTag site_for_allocation(std::uint32_t skip, std::size_t size) noexcept {
  if (tl_inside_heapsnap) [[unlikely]] return alloc::SiteTag::Internal;
  if (!g_enabled.load(std::memory_order_relaxed)) return alloc::SiteTag::NotTracing;
  return traced_site_for_allocation(skip, size);
}

// The bytes a traced block of `size` bytes stands for: `size` itself when tracing exactly; in
// sampling mode the unbiased estimate size / (1 - exp(-size / rate)) (a block of `size` bytes is
// sampled with probability 1 - exp(-size / rate)).
double sample_weight(std::size_t size) noexcept;

// Traced-memory accounting; blocks with an Untraced tag are not counted. Blocks of heapsnap's own
// arena (BlockOrigin::Arena) are also counted per site (site_counters.h); blocks of other domains,
// which snapshots list from the domain tracker, are not.
enum class BlockOrigin { Arena, OtherDomain };
void account_traced_allocation(alloc::SiteTag site, std::size_t requested, const void* address, BlockOrigin origin) noexcept;
void account_traced_free(const alloc::BlockInfo& block, BlockOrigin origin) noexcept;
// `address`: the block's (it tells temporary allocations, site_counters.h). While tracing, every call
// of the program counts (site_counters::count_call), traced or not.
[[gnu::always_inline]] inline void account_allocated(alloc::SiteTag site, std::size_t requested, const void* address,
                                                     BlockOrigin origin = BlockOrigin::Arena) noexcept {
  if (!is_traced(site) && !g_enabled.load(std::memory_order_relaxed)) return;
  account_traced_allocation(site, requested, address, origin);
}
[[gnu::always_inline]] inline void account_freed(const alloc::BlockInfo& block, BlockOrigin origin = BlockOrigin::Arena) noexcept {
  if (is_traced(block.site)) account_traced_free(block, origin);
}

struct Counters {
  std::size_t current;
  std::size_t peak;
};
Counters counters() noexcept;
void reset_peak() noexcept;
void reset_counters() noexcept;

}  // namespace heapsnap::tracing
