#pragma once
// Declarations shared by the allocator's own translation units; not part of its interface.

#include <array>
#include <atomic>
#include <cstddef>

#include "allocator/allocator.h"
#include "allocator/types.h"

namespace heapsnap::alloc {

// Per-thread state. Initial-exec TLS: no allocation, no __tls_get_addr, valid before main.
struct ThreadState {
  ThreadHeap* heap;   // this thread's heap, null until first allocation and after thread exit
  bool in_heap_op;    // inside a heap mutation: a nested call (signal handler) must not use `heap`
  bool thread_done;   // the thread's exit destructor ran: allocate from borrowed heaps only
};
[[gnu::tls_model("initial-exec")]] extern constinit thread_local ThreadState tl_state;

// Block count and tag-table placement of a page of class `cls`, derived from the class alone so that
// heap walks need no fields written by other threads.
struct PageLayout {
  std::uint32_t slices;
  std::uint32_t capacity;
  std::uint32_t tags_offset;  // bytes from page start
};
constexpr PageLayout compute_layout(std::size_t cls) {
  const std::uint32_t slices = static_cast<std::uint32_t>(slices_for_class(cls));
  const std::uint32_t bytes = slices * static_cast<std::uint32_t>(kSliceSize);
  const std::uint32_t capacity = bytes / (kClassSizes[cls] + static_cast<std::uint32_t>(sizeof(BlockTag)));
  return {slices, capacity, capacity * kClassSizes[cls]};
}
// A table, so that the run-length search is done by the compiler and a lookup is one load.
inline constexpr auto kPageLayouts = [] {
  std::array<PageLayout, kClassCount> layouts{};
  for (std::size_t cls = 0; cls < kClassCount; ++cls) layouts[cls] = compute_layout(cls);
  return layouts;
}();
constexpr PageLayout layout_for(std::size_t cls) { return kPageLayouts[cls]; }

// Small segments ever created, newest first; segments are never unmapped, so walks are safe.
extern std::atomic<Segment*> g_all_segments;
extern std::atomic<std::size_t> g_metadata_bytes;

// The page holding `p` inside small segment `segment`.
inline Page* page_of(Segment* segment, const void* p) {
  const std::size_t slice = static_cast<std::size_t>(static_cast<const std::byte*>(p) -
                                                     reinterpret_cast<std::byte*>(segment)) >> kSliceShift;
  return &segment->pages[segment->page_of_slice[slice]];
}

// `zeroed`: the first `size` bytes must read as zero (calloc); a fresh mapping is, a reused one is cleared.
void* huge_allocate(std::size_t size, std::size_t alignment, SiteTag site, bool zeroed = false) noexcept;
BlockInfo huge_deallocate(Segment* segment, void* p) noexcept;
BlockInfo huge_find(Segment* segment, const void* p) noexcept;
bool huge_retag(Segment* segment, void* p, SiteTag site, std::size_t requested) noexcept;
void* huge_resize(Segment* segment, void* p, std::size_t size, SiteTag site) noexcept;
void huge_walk(BlockVisitor visit, void* context) noexcept;

}  // namespace heapsnap::alloc
