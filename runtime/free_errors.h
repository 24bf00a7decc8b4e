#pragma once
// Frees of memory that is not allocated: double frees and frees of pointers heapsnap never handed
// out (into a block, or outside its heap altogether: a global, the stack). The allocator refuses them without touching the heap (allocator.h: deallocate); this records
// each one, with the stack of the bad free and, for a double free, where the block was allocated, so
// that snapshots and `heapsnap check` report them. Recording allocates nothing: a fixed table, lock-free.

#include <cstdint>
#include <vector>

#include "allocator/allocator.h"

namespace heapsnap {

struct FreeErrorRecord {
  alloc::BadFreeKind kind = alloc::BadFreeKind::InvalidPointer;
  alloc::SiteTag freed_at = alloc::SiteTag::Untraced;      // the bad free's stack
  alloc::SiteTag allocated_at = alloc::SiteTag::Free;      // the block's allocation site; Free if unknown
  std::uint64_t count = 0;                                 // times this (kind, stacks) happened
  std::uintptr_t first_address = 0;                        // the pointer freed the first time
};

// Called by free() and its relatives when deallocate() refused `p` (non-null). `skip`: heapsnap frames
// above the caller. A pointer outside heapsnap's heap (BadFreeKind::NotOurs) is an invalid free too:
// nothing legitimately frees one (see free_errors.cpp).
void record_bad_free(const void* p, std::uint32_t skip) noexcept;

// What has been recorded since the process started (or since clear_free_errors), most frequent first.
std::vector<FreeErrorRecord> free_error_records();
// Bad frees beyond the table's capacity: counted, not attributed.
std::uint64_t unrecorded_free_errors() noexcept;
void clear_free_errors() noexcept;

}  // namespace heapsnap
