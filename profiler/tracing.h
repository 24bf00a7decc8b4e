#pragma once
// The tracing state shared by every interposed entry point: whether tracing is on, how deep to
// capture, and the traced-memory counters. Internal to the in-process runtime.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "allocator/allocator.h"

namespace heapsnap::tracing {

inline std::atomic<bool> g_enabled{false};
inline std::atomic<std::uint32_t> g_depth{1};  // traceback limit

// The site of an allocation being made now: the interned stack of the caller's caller when tracing
// (skipping `skip` heapsnap frames above this function); Internal when heapsnap itself (or a signal
// handler interrupting it) allocates; Untraced otherwise.
alloc::SiteTag site_for_allocation(std::uint32_t skip) noexcept;

// Traced-memory accounting; blocks with an Untraced tag are not counted.
void account_allocated(alloc::SiteTag site, std::size_t requested) noexcept;
void account_freed(const alloc::BlockInfo& block) noexcept;

struct Counters {
  std::size_t current;
  std::size_t peak;
};
Counters counters() noexcept;
void reset_peak() noexcept;
void reset_counters() noexcept;

}  // namespace heapsnap::tracing
