#include "allocator/invariants.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "allocator/internal.h"
#include "allocator/segment_map.h"

namespace heapsnap::alloc {
namespace {

void write_text(const char* text) noexcept {
  for (std::size_t left = std::strlen(text); left > 0;) {
    const ssize_t written = ::write(STDERR_FILENO, text, left);
    if (written <= 0) return;
    text += written;
    left -= static_cast<std::size_t>(written);
  }
}

void write_number(int value) noexcept {
  char digits[16];
  std::size_t n = 0;
  do digits[n++] = static_cast<char>('0' + value % 10);
  while ((value /= 10) > 0 && n < sizeof digits);
  char text[17];
  for (std::size_t i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
  text[n] = '\0';
  write_text(text);
}

std::size_t first_slice_of(const Segment* segment, const Page* page) noexcept {
  return static_cast<std::size_t>(page - segment->pages);
}

}  // namespace

void invariant_failed(const char* condition, const char* file, int line) noexcept {
  write_text("heapsnap: allocator invariant failed: ");
  write_text(condition);
  write_text(" (");
  write_text(file);
  write_text(":");
  write_number(line);
  write_text(")\n");
  std::abort();
}

bool block_is_free_in_page(const Page* page, const void* block) noexcept {
  const auto* address = static_cast<const std::byte*>(block);
  if (address < page->start) return false;
  const std::uint32_t index = page->index_of(block);
  return index < page->capacity.load(std::memory_order_relaxed) && page->block_at(index) == address &&
         page->tags[index].site.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(SiteTag::Free);
}

bool page_is_consistent(const Segment* segment, const Page* page) noexcept {
  const std::size_t cls = page->size_class.load(std::memory_order_relaxed);
  if (cls >= kClassCount || page->block_size != kClassSizes[cls]) return false;
  const PageLayout layout = layout_for(cls);
  const std::size_t first = first_slice_of(segment, page);
  if (first == 0 || first + layout.slices > kSlicesPerSegment || page->slice_count != layout.slices) return false;
  for (std::size_t s = first; s < first + layout.slices; ++s) {
    if (segment->page_of_slice[s] != first) return false;
    if ((segment->free_slices >> s) & 1) return false;  // a page's slices are not free
  }
  const auto* segment_start = reinterpret_cast<const std::byte*>(segment);
  return page->start == segment_start + (first << kSliceShift) &&
         reinterpret_cast<const std::byte*>(page->tags) == page->start + layout.tags_offset &&
         page->capacity.load(std::memory_order_relaxed) <= layout.capacity &&
         page->used <= page->capacity.load(std::memory_order_relaxed);
}

bool segment_is_consistent(const Segment* segment) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(segment);
  if (address % kSegmentSize != 0 || segment_of(segment) != segment) return false;
  if (segment->kind == SegmentKind::Huge) return segment->huge_block != nullptr && segment->huge_usable > 0;
  return segment->kind == SegmentKind::Small && (segment->free_slices & 1) == 0;  // slice 0: the header
}

bool free_lists_are_consistent(const Page* page) noexcept {
  const std::uint32_t capacity = page->capacity.load(std::memory_order_relaxed);
  std::uint32_t count = 0;
  for (const FreeBlock* block = page->free; block != nullptr; block = block->next) {
    if (++count > capacity) return false;  // longer than the page: a cycle or a foreign link
    if (!block_is_free_in_page(page, block)) return false;
  }
  return count <= capacity - page->used;
}

bool verify_heap() noexcept {
  for (Segment* segment = g_all_segments.load(std::memory_order_acquire); segment != nullptr;
       segment = segment->next_registered) {
    if (!segment_is_consistent(segment)) return false;
    for (std::size_t s = 1; s < kSlicesPerSegment; ++s) {
      const Page& page = segment->pages[s];
      if (segment->page_of_slice[s] != s || page.in_use.load(std::memory_order_acquire) == 0) continue;
      if ((segment->free_slices >> s) & 1) continue;  // a retired run: its descriptor is stale
      if (!page_is_consistent(segment, &page) || !free_lists_are_consistent(&page)) return false;
    }
  }
  return true;
}

}  // namespace heapsnap::alloc
