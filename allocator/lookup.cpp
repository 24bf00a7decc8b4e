// Questions about blocks: which block holds an address, how big it is, and a walk over all of them.

#include "allocator/internal.h"
#include "allocator/segment_map.h"

namespace heapsnap::alloc {
namespace {

// The live small block holding `p`, or null; `index_out` receives its index.
Page* live_small_block(Segment* segment, const void* p, std::uint32_t& index_out) noexcept {
  Page* page = page_of(segment, p);
  if (page->in_use.load(std::memory_order_acquire) == 0) return nullptr;
  const auto* address = static_cast<const std::byte*>(p);
  if (address < page->start) return nullptr;
  const std::uint32_t index = page->index_of(p);
  if (index >= page->capacity.load(std::memory_order_relaxed)) return nullptr;  // in the tag table
  if (page->tags[index].site.load(std::memory_order_acquire) == 0) return nullptr;
  index_out = index;
  return page;
}

}  // namespace

std::uintptr_t heap_segment_end(const void* p) noexcept {
  const Segment* segment = segment_of(p);
  if (segment == nullptr) return 0;
  const auto base = reinterpret_cast<std::uintptr_t>(segment);
  const std::uintptr_t end = base + (segment->kind == SegmentKind::Huge ? segment->mapping_size : kSegmentSize);
  return reinterpret_cast<std::uintptr_t>(p) < end ? end : 0;
}

BlockInfo find_block(const void* p) noexcept {
  Segment* segment = segment_of(p);
  if (segment == nullptr) return {};
  if (segment->kind == SegmentKind::Huge) return huge_find(segment, p);
  if (static_cast<const std::byte*>(p) < reinterpret_cast<std::byte*>(segment) + kSliceSize) return {};  // header
  std::uint32_t index = 0;
  Page* page = live_small_block(segment, p, index);
  if (page == nullptr) return {};
  const BlockTag& tag = page->tags[index];
  return {page->block_at(index), page->block_size, tag.requested.load(std::memory_order_relaxed),
          static_cast<SiteTag>(tag.site.load(std::memory_order_relaxed))};
}

BadFree diagnose_bad_free(const void* p) noexcept {
  Segment* segment = heap_segment_end(p) != 0 ? segment_of(p) : nullptr;
  if (segment == nullptr) return {};  // also a huge block freed twice: its mapping is gone
  if (segment->kind == SegmentKind::Huge) {
    return {p == segment->huge_block ? BadFreeKind::DoubleFree : BadFreeKind::InvalidPointer, SiteTag::Free};
  }
  if (static_cast<const std::byte*>(p) < reinterpret_cast<std::byte*>(segment) + kSliceSize) {
    return {BadFreeKind::InvalidPointer, SiteTag::Free};  // the segment header
  }
  Page* page = page_of(segment, p);
  if (page->in_use.load(std::memory_order_acquire) == 0) {
    // Every block of the page was freed and the page retired: a double free we cannot attribute, or
    // a stray pointer; both free something that is not allocated.
    return {BadFreeKind::DoubleFree, SiteTag::Free};
  }
  const std::uint32_t index = page->index_of(p);
  if (static_cast<const std::byte*>(p) < page->start || index >= page->capacity.load(std::memory_order_relaxed) ||
      page->block_at(index) != p) {
    return {BadFreeKind::InvalidPointer, SiteTag::Free};
  }
  const BlockTag& tag = page->tags[index];
  if (tag.site.load(std::memory_order_acquire) != 0) {
    return {BadFreeKind::DoubleFree, SiteTag::Free};  // freed, then allocated again by another thread
  }
  const auto last_site = static_cast<SiteTag>(tag.requested.load(std::memory_order_relaxed));
  if (last_site == SiteTag::Free) return {BadFreeKind::InvalidPointer, SiteTag::Free};  // never allocated
  return {BadFreeKind::DoubleFree, last_site};
}

bool retag(void* p, SiteTag site, std::size_t requested) noexcept {
  Segment* segment = segment_of(p);
  if (segment == nullptr || site == SiteTag::Free) return false;
  if (segment->kind == SegmentKind::Huge) return huge_retag(segment, p, site, requested);
  std::uint32_t index = 0;
  Page* page = live_small_block(segment, p, index);
  if (page == nullptr || page->block_at(index) != p || requested > page->block_size) return false;
  BlockTag& tag = page->tags[index];
  std::uint32_t current = tag.site.load(std::memory_order_acquire);
  if (current == 0) return false;
  // Unchanged sizes are not stored: a free by another thread since the lookup keeps the block's last
  // allocation site there, for diagnosing a second free.
  if (tag.requested.load(std::memory_order_relaxed) != requested)
    tag.requested.store(static_cast<std::uint32_t>(requested), std::memory_order_relaxed);
  // A CAS, not a store: such a free (deallocate reads the site and then clears it) must stay a free.
  return tag.site.compare_exchange_strong(current, static_cast<std::uint32_t>(site), std::memory_order_release,
                                          std::memory_order_relaxed);
}

void* resize_huge_block(void* p, std::size_t size, SiteTag site) noexcept {
  Segment* segment = segment_of(p);
  if (segment == nullptr || segment->kind != SegmentKind::Huge || size <= kMaxSmallSize || site == SiteTag::Free)
    return nullptr;
  return huge_resize(segment, p, size, site);
}

std::size_t usable_size(const void* p) noexcept {
  const BlockInfo block = find_block(p);
  return block.address == p ? block.usable : 0;
}

void walk_heap(BlockVisitor visit, void* context) noexcept {
  for (Segment* segment = g_all_segments.load(std::memory_order_acquire); segment != nullptr;
       segment = segment->next_registered) {
    auto* base = reinterpret_cast<std::byte*>(segment);
    for (std::size_t slice = 1; slice < kSlicesPerSegment;) {
      const Page& page = segment->pages[slice];
      if (page.in_use.load(std::memory_order_acquire) == 0) {
        ++slice;
        continue;
      }
      // Layout from the class alone: the owner may be retiring this page while we read.
      const std::size_t cls = page.size_class.load(std::memory_order_relaxed);
      const PageLayout layout = layout_for(cls);
      std::byte* start = base + (slice << kSliceShift);
      const auto* tags = reinterpret_cast<const BlockTag*>(start + layout.tags_offset);
      // Only the blocks the page has used so far: the tags past them are not cleared yet.
      const std::uint32_t used_so_far = page.capacity.load(std::memory_order_acquire);
      const std::uint32_t blocks = used_so_far < layout.capacity ? used_so_far : layout.capacity;
      for (std::uint32_t i = 0; i < blocks; ++i) {
        const std::uint32_t site = tags[i].site.load(std::memory_order_acquire);
        if (site == 0) continue;
        visit(context, {start + std::size_t{i} * kClassSizes[cls], kClassSizes[cls],
                        tags[i].requested.load(std::memory_order_relaxed), static_cast<SiteTag>(site)});
      }
      slice += layout.slices;
    }
  }
  huge_walk(visit, context);
}

}  // namespace heapsnap::alloc
