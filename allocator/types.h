#pragma once
// The allocator's data structures, field by field. Strategy and invariants: see allocator.h.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "allocator/config.h"
#include "allocator/site_tag.h"
#include "allocator/size_classes.h"

namespace heapsnap::alloc {

struct ThreadHeap;

// A free block's first word links it into its page's free list.
struct FreeBlock {
  FreeBlock* next;
};

// One entry per block of a page, kept in the page's tail (never in front of user data).
// site == SiteTag::Free marks a free block; that is what heap walks and double-free checks read.
struct BlockTag {
  std::atomic<std::uint32_t> site;       // SiteTag of the allocation, Free (0) when the block is free
  std::atomic<std::uint32_t> requested;  // bytes the program asked for (<= block size)
};
static_assert(sizeof(BlockTag) == 8);

// A page: a run of 1..16 slices serving one size class. Descriptors live in the segment header.
struct Page {
  std::atomic<std::uint8_t> in_use;      // 1 while the run serves a class; read by heap walks
  std::atomic<std::uint8_t> size_class;  // index into kClassSizes; read by heap walks
  std::uint8_t slice_count;              // length of the run
  std::uint8_t is_full;                  // owner bookkeeping: on the heap's full list
  std::uint32_t block_size;              // kClassSizes[size_class], cached for the free path
  std::atomic<std::uint32_t> capacity;   // blocks used so far (free list, tags cleared); grows to the layout's
                                         // capacity as the page fills (heap.cpp: extend_free_list)
  std::uint32_t used;                    // blocks handed out and not yet freed back to the owner
  std::uint64_t divide_magic;            // ceil(2^48 / block_size): offset -> index with one multiply
  std::byte* start;                      // first block (slice aligned)
  BlockTag* tags;                        // capacity entries, right after the last block
  FreeBlock* free;                       // owner-only free list
  std::atomic<FreeBlock*> remote_free;   // frees from other threads (or signal handlers), pushed with CAS
  ThreadHeap* heap;                      // owning heap; frees from any other heap go to remote_free
  Page* next;                            // owner's per-class queue or full list
  Page* prev;

  std::uint32_t index_of(const void* p) const {
    const std::uint64_t offset = static_cast<std::uint64_t>(static_cast<const std::byte*>(p) - start);
    return static_cast<std::uint32_t>((offset * divide_magic) >> 48);  // exact for offset < 2^20
  }
  std::byte* block_at(std::uint32_t index) const { return start + std::size_t{index} * block_size; }
};

enum class SegmentKind : std::uint8_t { Small, Huge };

// A 4 MiB aligned mapping. Small segments: slice 0 holds this header, slices 1..63 hold page runs.
// Huge segments: one block of its own, after a one-slice header; the mapping may span many segments'
// worth of address space (every 4 MiB unit of it is registered in the segment map).
struct Segment {
  SegmentKind kind;
  ThreadHeap* heap;                            // owner (Small)
  std::uint64_t free_slices;                   // bit i set: slice i is not part of a page run (Small)
  std::uint8_t page_of_slice[kSlicesPerSegment];  // slice -> first slice of its run (Small)
  Page pages[kSlicesPerSegment];               // descriptor of the run starting at slice i (Small)
  Segment* next_registered;                    // global list of all small segments, push-only
  Segment* next_in_heap;                       // owner's segment list
  // Huge:
  std::size_t mapping_size;                    // whole mapping, for munmap
  std::byte* huge_block;                       // the block
  std::size_t huge_usable;                     // bytes from huge_block to the end of the mapping
  std::uint32_t huge_record;                   // index in the huge-block registry (heap walks)
};
static_assert(sizeof(Segment) <= kSliceSize, "segment header must fit in slice 0");

// Per-thread allocation state. Only the owning thread touches the non-atomic fields.
struct ThreadHeap {
  Page* current[kClassCount];          // page the fast path allocates from (never null: sentinel)
  Page* queue[kClassCount];            // pages of the class with (possibly) free blocks
  Page* full;                          // pages with no free block when last looked at
  Segment* segments;                   // segments this heap carves pages from
  std::atomic<bool> abandoned;         // its thread exited (or forked away); waiting for adoption
  std::atomic<ThreadHeap*> next_abandoned;  // abandoned stack link; a racing pop may read it (the tag rejects it)
  ThreadHeap* next_registered;         // global list of all heaps ever created
  std::uint32_t slow_path_calls;       // drives occasional collection of remote frees
};

}  // namespace heapsnap::alloc
