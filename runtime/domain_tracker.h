#pragma once
// Memory heapsnap's allocator does not see -- custom pools, GPU buffers, mmap'd regions -- traced on
// request under a domain id, as CPython's PyTraceMalloc_Track/Untrack do. Not a hot path: one mutex.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "allocator/site_tag.h"
#include "snapshot/snapshot.h"

namespace heapsnap {

struct TrackedBlock {
  DomainId domain;
  std::uintptr_t address;
  std::size_t size;
  alloc::SiteTag site;
};

// Records (or replaces) the trace of [address, address + size) in `domain`. False when out of memory.
bool track_block(DomainId domain, std::uintptr_t address, std::size_t size, alloc::SiteTag site);
// Forgets the trace; returns what it was (site Free when it was not tracked).
TrackedBlock untrack_block(DomainId domain, std::uintptr_t address);
std::vector<TrackedBlock> tracked_blocks();
void untrack_all_blocks();

void domain_tracker_before_fork() noexcept;
void domain_tracker_after_fork() noexcept;

}  // namespace heapsnap
