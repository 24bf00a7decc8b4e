#pragma once
// heapsnap's arena allocator.
//
// Strategy
// --------
// Memory comes from the OS in 4 MiB segments, aligned to 4 MiB and obtained with mmap. A segment is
// cut into 64 slices of 64 KiB. Slice 0 holds the segment header (page descriptors included); the
// other slices are handed out in runs called pages. A page serves exactly one size class
// (size_classes.h) and holds at least 8 blocks, so a page is 1 to 16 slices. Requests above 128 KiB
// (or with alignment above 64 KiB) get a mapping of their own (a huge segment).
//
// Every block has an 8-byte tag {site, requested size} in a table at the tail of its page, so user
// data is never shifted by a header and the block owning any address, including an interior pointer,
// is found in O(1): a two-level segment map gives the segment of an address (or says it is not ours),
// the slice index gives the page, and one multiply by a per-page magic number gives the block index.
// site == Free marks a free block, which is what heap walks and double-free detection read. A
// page's blocks join its free list 4 KiB at a time as it fills, so a page is written only as far as
// it is used; lookups and walks stop at the blocks made so far (the page's capacity).
//
// Each thread allocates from its own ThreadHeap: pages and segments belong to one heap, and the fast
// paths (allocate from the current page's free list, free into a page of the calling thread's heap)
// touch no atomic and no lock. A free from another thread pushes the block on the page's remote_free
// list with one CAS; the owner takes those lists over in its slow path. A heap whose thread exits is
// abandoned whole and adopted by the next thread that needs one, so its memory is reused.
// No lock exists anywhere in the allocator, so a forked child can never inherit one held, and a
// signal handler that allocates while its thread is inside the allocator is sent to a borrowed heap.

#include <cstddef>
#include <cstdint>

#include "allocator/site_tag.h"

namespace heapsnap::alloc {

// What a block was and is. For a lookup by interior pointer, `address` is the block's start.
struct BlockInfo {
  void* address = nullptr;
  std::size_t usable = 0;     // bytes the program may use (>= requested)
  std::size_t requested = 0;  // bytes the program asked for
  SiteTag site = SiteTag::Free;
};

// Allocates `size` bytes (0 is allowed and gives a unique pointer) aligned to `alignment` (a power of
// two; kMinAlignment is always honoured). Returns nullptr when out of memory; errno is not touched.
void* allocate(std::size_t size, std::size_t alignment, SiteTag site) noexcept;
// The same with kMinAlignment, the first `size` bytes zeroed (calloc).
void* allocate_zeroed(std::size_t size, SiteTag site) noexcept;

// Frees a block allocated here. Returns what the block was, so the caller can account for it; returns
// a BlockInfo with site == Free (and frees nothing) for null, a pointer that is not ours, an interior
// pointer, or a block that is already free (a double free).
BlockInfo deallocate(void* p) noexcept;

// Why deallocate() freed nothing for a non-null pointer. Off the hot path: called only then.
enum class BadFreeKind : std::uint8_t {
  NotOurs,         // not in heapsnap's heap: a global, the stack, a huge block already unmapped
  InvalidPointer,  // inside the heap but not the start of an allocated block
  DoubleFree,      // the start of a block that is already free
};
struct BadFree {
  BadFreeKind kind = BadFreeKind::NotOurs;
  SiteTag allocated_at = SiteTag::Free;  // DoubleFree: the site of the block's last allocation, if known
};
BadFree diagnose_bad_free(const void* p) noexcept;

// The block containing `p` (start or interior), or site == Free when `p` is not inside a live block.
BlockInfo find_block(const void* p) noexcept;

// Changes the site/requested size recorded for a live block starting at `p`. False when `p` is not
// the start of a live block.
bool retag(void* p, SiteTag site, std::size_t requested) noexcept;

// Resizes the huge block starting at `p` (a block with a mapping of its own) to `size` bytes, also
// huge, where it is: its mapping grows into the free address space after it, or gives back its
// tail. No byte is copied. Its site and requested size become `site` and `size`. Returns `p`, or null
// (and nothing changed) when `p` is not such a block or its mapping cannot grow in place; the caller
// then copies. A copy leaves the old mapping behind (in the freed-mapping cache, resident): a buffer
// grown by doubling would hold about its own size again in pages nobody uses. glibc's realloc
// remaps its mmapped chunks too.
void* resize_huge_block(void* p, std::size_t size, SiteTag site) noexcept;

// The end of the allocator's segment that holds `p`, or 0 when `p` lies in none. The heap is handed out
// in segments aligned to kSegmentSize (allocator/config.h); a huge block's mapping ends inside its last
// kSegmentSize unit, and the rest of that unit is other mappings' (a library's data, a stack). O(1),
// safe for any address: how a conservative scan tells heap memory from everything else.
std::uintptr_t heap_segment_end(const void* p) noexcept;
inline bool in_heap_segment(const void* p) noexcept { return heap_segment_end(p) != 0; }

// Bytes usable in the block starting at `p`, 0 for anything else.
std::size_t usable_size(const void* p) noexcept;

// Visits every live block. Blocks allocated or freed by other threads during the walk may or may not
// be seen; a block is never reported with a tag it did not have. `visit` must not allocate from the
// allocator in a way that depends on seeing its own block.
using BlockVisitor = void (*)(void* context, const BlockInfo& block);
void walk_heap(BlockVisitor visit, void* context) noexcept;

// Tells the allocator that the calling thread is the only one left after fork(): every other thread's
// heap is abandoned so the child can adopt it. Call from the child side of fork.
void after_fork_in_child() noexcept;

// Bytes the allocator holds from the OS for itself: headers, tag tables and heap metadata.
std::size_t metadata_bytes() noexcept;

}  // namespace heapsnap::alloc
