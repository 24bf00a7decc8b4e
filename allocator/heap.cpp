// Thread heaps: the allocation and free fast paths, page management and heap ownership.

#include <pthread.h>

#include <cstring>

#include "allocator/internal.h"
#include "allocator/invariants.h"
#include "allocator/os.h"
#include "allocator/segment_map.h"

namespace heapsnap::alloc {

[[gnu::tls_model("initial-exec")]] constinit thread_local ThreadState tl_state = {nullptr, false, false};
std::atomic<Segment*> g_all_segments{nullptr};
std::atomic<std::size_t> g_metadata_bytes{0};

namespace {

// The page every heap's `current` starts at: no free block, so the fast path falls to the slow path
// without a null check.
constinit Page g_empty_page{};

std::atomic<ThreadHeap*> g_all_heaps{nullptr};

// Treiber stack of abandoned heaps; the low 16 bits of the word count pops so that a heap popped and
// pushed back between another thread's load and CAS is not mistaken for an unchanged head (ABA).
std::atomic<std::uint64_t> g_abandoned{0};
constexpr std::uint64_t kPointerMask = (std::uint64_t{1} << 48) - 1;

// 0 = no key yet, 1 = being created, 2 = ready. Not pthread_once: a forked child must never find a
// once-control held by a thread that no longer exists.
std::atomic<int> g_exit_key_state{0};
pthread_key_t g_exit_key;

struct HeapOpScope {  // marks a heap mutation for nested (signal-handler) calls
  ThreadState& state;
  explicit HeapOpScope(ThreadState& s) : state(s) {
    state.in_heap_op = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  ~HeapOpScope() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    state.in_heap_op = false;
  }
};

void push_abandoned(ThreadHeap* heap) noexcept {
  heap->abandoned.store(true, std::memory_order_relaxed);
  std::uint64_t head = g_abandoned.load(std::memory_order_relaxed);
  do {
    heap->next_abandoned.store(reinterpret_cast<ThreadHeap*>(head >> 16 & kPointerMask), std::memory_order_relaxed);
  } while (!g_abandoned.compare_exchange_weak(
      head, (reinterpret_cast<std::uint64_t>(heap) << 16) | (head & 0xffff), std::memory_order_release,
      std::memory_order_relaxed));
}

ThreadHeap* pop_abandoned() noexcept {
  std::uint64_t head = g_abandoned.load(std::memory_order_acquire);
  while (true) {
    auto* heap = reinterpret_cast<ThreadHeap*>(head >> 16 & kPointerMask);
    if (heap == nullptr) return nullptr;
    // Reading next of a heap another thread just popped is safe: heaps are never unmapped.
    const auto next = reinterpret_cast<std::uint64_t>(heap->next_abandoned.load(std::memory_order_relaxed));
    const std::uint64_t desired = (next << 16) | ((head + 1) & 0xffff);
    if (g_abandoned.compare_exchange_weak(head, desired, std::memory_order_acquire, std::memory_order_acquire)) {
      heap->abandoned.store(false, std::memory_order_relaxed);
      return heap;
    }
  }
}

ThreadHeap* create_heap() noexcept {
  constexpr std::size_t bytes = (sizeof(ThreadHeap) + kOsPageSize - 1) & ~(kOsPageSize - 1);
  auto* heap = static_cast<ThreadHeap*>(os_map_internal(bytes));
  if (heap == nullptr) return nullptr;
  g_metadata_bytes.fetch_add(bytes, std::memory_order_relaxed);
  for (std::size_t c = 0; c < kClassCount; ++c) heap->current[c] = &g_empty_page;
  ThreadHeap* head = g_all_heaps.load(std::memory_order_relaxed);
  do heap->next_registered = head;
  while (!g_all_heaps.compare_exchange_weak(head, heap, std::memory_order_release, std::memory_order_relaxed));
  return heap;
}

ThreadHeap* take_any_heap() noexcept {
  ThreadHeap* heap = pop_abandoned();
  return heap != nullptr ? heap : create_heap();
}

void on_thread_exit(void* heap) noexcept {
  ThreadState& state = tl_state;
  state.heap = nullptr;
  state.thread_done = true;  // allocations from later TLS destructors borrow a heap
  push_abandoned(static_cast<ThreadHeap*>(heap));
}

void ensure_exit_key() noexcept {
  int state = g_exit_key_state.load(std::memory_order_acquire);
  if (state == 2) return;
  if (state == 0 && g_exit_key_state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
    pthread_key_create(&g_exit_key, on_thread_exit);
    g_exit_key_state.store(2, std::memory_order_release);
    return;
  }
  while (g_exit_key_state.load(std::memory_order_acquire) != 2) {
  }
}

// --- pages --------------------------------------------------------------------------------------

void queue_push(Page*& head, Page* page) noexcept {
  page->prev = nullptr;
  page->next = head;
  if (head != nullptr) head->prev = page;
  head = page;
}

void queue_remove(Page*& head, Page* page) noexcept {
  if (page->prev != nullptr) page->prev->next = page->next;
  else head = page->next;
  if (page->next != nullptr) page->next->prev = page->prev;
  page->next = page->prev = nullptr;
}

// A page's blocks join its free list a few at a time, as it is used, rather than all when it is made:
// writing a link into every block and clearing every tag touched the whole page, and those page faults
// were a quarter of a tiny program's run time under heapsnap. Blocks are added one OS page at a time.
constexpr std::uint32_t kExtendBytes = 4096;

// Links the page's next never-used blocks into its (empty) free list, after clearing their tags.
// `capacity` grows over them last, with release: lookups and heap walks take indices past it for no
// block, so none reads a tag before it is cleared. False when the page has no never-used block left.
bool extend_free_list(Page* page) noexcept {
  const std::uint32_t linked = page->capacity.load(std::memory_order_relaxed);
  const std::uint32_t total = layout_for(page->size_class.load(std::memory_order_relaxed)).capacity;
  if (linked >= total) return false;
  const std::uint32_t step = page->block_size >= kExtendBytes ? 1 : kExtendBytes / page->block_size;
  const std::uint32_t end = total - linked < step ? total : linked + step;
  std::memset(static_cast<void*>(page->tags + linked), 0, sizeof(BlockTag) * (end - linked));  // all Free
  FreeBlock* free = page->free;  // link back to front so blocks are handed out in address order
  for (std::uint32_t i = end; i-- > linked;) {
    auto* block = reinterpret_cast<FreeBlock*>(page->block_at(i));
    block->next = free;
    free = block;
  }
  page->free = free;
  page->capacity.store(end, std::memory_order_release);
  return true;
}

// Takes over the frees other threads pushed, or else the page's next never-used blocks. Returns true
// when the page has a free block now.
bool collect_remote_frees(Page* page) noexcept {
  if (page->remote_free.load(std::memory_order_relaxed) != nullptr) {
    FreeBlock* list = page->remote_free.exchange(nullptr, std::memory_order_acquire);
    std::uint32_t count = 0;
    FreeBlock* last = list;
    for (FreeBlock* b = list; b != nullptr; b = b->next) {
      ++count;
      last = b;
    }
    HEAPSNAP_ALLOC_ASSERT(count <= page->used);
    last->next = page->free;
    page->free = list;
    page->used -= count;
    HEAPSNAP_ALLOC_ASSERT_EXPENSIVE(free_lists_are_consistent(page));
  }
  return page->free != nullptr || extend_free_list(page);
}

Segment* create_segment(ThreadHeap* heap) noexcept {
  auto* segment = static_cast<Segment*>(os_map_aligned(kSegmentSize, kSegmentSize));
  if (segment == nullptr) return nullptr;
  if (!segment_map_insert(segment, kSegmentSize, segment)) {
    os_unmap(segment, kSegmentSize);
    return nullptr;
  }
  g_metadata_bytes.fetch_add(sizeof(Segment), std::memory_order_relaxed);
  segment->kind = SegmentKind::Small;
  segment->heap = heap;
  segment->free_slices = ~std::uint64_t{1};  // slice 0 is the header
  segment->next_in_heap = heap->segments;
  heap->segments = segment;
  Segment* head = g_all_segments.load(std::memory_order_relaxed);
  do segment->next_registered = head;
  while (!g_all_segments.compare_exchange_weak(head, segment, std::memory_order_release, std::memory_order_relaxed));
  HEAPSNAP_ALLOC_ASSERT(segment_is_consistent(segment));
  return segment;
}

// First run of `count` free slices in `free_slices`, or -1.
int find_free_run(std::uint64_t free_slices, std::uint32_t count) noexcept {
  const std::uint64_t run_mask = count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
  for (std::uint32_t first = 1; first + count <= kSlicesPerSegment; ++first)
    if (((free_slices >> first) & run_mask) == run_mask) return static_cast<int>(first);
  return -1;
}

Page* new_page(ThreadHeap* heap, std::size_t cls) noexcept {
  const PageLayout layout = layout_for(cls);
  Segment* segment = heap->segments;
  int first = -1;
  for (; segment != nullptr; segment = segment->next_in_heap)
    if ((first = find_free_run(segment->free_slices, layout.slices)) >= 0) break;
  if (segment == nullptr) {
    if ((segment = create_segment(heap)) == nullptr) return nullptr;
    first = 1;
  }
  const std::uint64_t run_mask = ((std::uint64_t{1} << layout.slices) - 1) << first;
  segment->free_slices &= ~run_mask;
  for (std::uint32_t s = 0; s < layout.slices; ++s) segment->page_of_slice[first + s] = static_cast<std::uint8_t>(first);

  Page* page = &segment->pages[first];
  const std::uint32_t block_size = kClassSizes[cls];
  page->size_class.store(static_cast<std::uint8_t>(cls), std::memory_order_relaxed);
  page->slice_count = static_cast<std::uint8_t>(layout.slices);
  page->is_full = 0;
  page->block_size = block_size;
  page->capacity.store(0, std::memory_order_relaxed);  // extend_free_list, below, makes the first blocks
  page->used = 0;
  page->divide_magic = ((std::uint64_t{1} << 48) + block_size - 1) / block_size;
  page->start = reinterpret_cast<std::byte*>(segment) + (static_cast<std::size_t>(first) << kSliceShift);
  page->tags = reinterpret_cast<BlockTag*>(page->start + layout.tags_offset);
  page->remote_free.store(nullptr, std::memory_order_relaxed);
  page->heap = heap;
  page->free = nullptr;
  extend_free_list(page);
  HEAPSNAP_ALLOC_ASSERT(page_is_consistent(segment, page));
  HEAPSNAP_ALLOC_ASSERT_EXPENSIVE(free_lists_are_consistent(page));
  page->in_use.store(1, std::memory_order_release);  // visible to heap walks from here on
  queue_push(heap->queue[cls], page);
  return page;
}

// Gives an empty page's slices back to its segment. Its memory stays committed; a segment that
// becomes wholly free is decommitted unless it is the heap's only one.
void retire_page(ThreadHeap* heap, Page* page) noexcept {
  HEAPSNAP_ALLOC_ASSERT(page->used == 0);
  const std::size_t cls = page->size_class.load(std::memory_order_relaxed);
  if (page->is_full) queue_remove(heap->full, page);
  else queue_remove(heap->queue[cls], page);
  if (heap->current[cls] == page) heap->current[cls] = &g_empty_page;
  page->in_use.store(0, std::memory_order_release);
  auto* segment = reinterpret_cast<Segment*>(reinterpret_cast<std::uintptr_t>(page) & ~(kSegmentSize - 1));
  const std::size_t first = static_cast<std::size_t>(page - segment->pages);
  segment->free_slices |= ((std::uint64_t{1} << page->slice_count) - 1) << first;
  if (segment->free_slices == ~std::uint64_t{1} && heap->segments != segment)
    os_decommit(reinterpret_cast<std::byte*>(segment) + kSliceSize, kSegmentSize - kSliceSize);
}

// Finds (or makes) a page of class `cls` with a free block and makes it current.
Page* page_with_free_block(ThreadHeap* heap, std::size_t cls) noexcept {
  Page* page = heap->current[cls];
  if (page != &g_empty_page && collect_remote_frees(page)) return page;
  for (page = heap->queue[cls]; page != nullptr;) {
    Page* next = page->next;
    if (collect_remote_frees(page)) return heap->current[cls] = page;
    queue_remove(heap->queue[cls], page);  // full: park it until frees come back
    page->is_full = 1;
    queue_push(heap->full, page);
    page = next;
  }
  // Before taking new memory, take back pages that other threads' frees have emptied out.
  for (page = heap->full; page != nullptr;) {
    Page* next = page->next;
    if (collect_remote_frees(page)) {
      queue_remove(heap->full, page);
      page->is_full = 0;
      const std::size_t page_class = page->size_class.load(std::memory_order_relaxed);
      queue_push(heap->queue[page_class], page);
      if (page->used == 0 && page_class != cls) retire_page(heap, page);
    }
    page = next;
  }
  if (heap->queue[cls] != nullptr) return heap->current[cls] = heap->queue[cls];
  page = new_page(heap, cls);
  return page == nullptr ? nullptr : heap->current[cls] = page;
}

// Hands out the first free block of a page that has one, tagged. The tag's site is stored last, with
// release: a heap walk that sees the site also sees the size.
// The block's free-list link is cleared: left in place, it would point at the next free block, and a
// conservative leak scan would take it for a reference from the program.
[[gnu::always_inline]] inline void* pop_block(Page* page, FreeBlock* block, std::size_t size, SiteTag site) noexcept {
  HEAPSNAP_ALLOC_ASSERT(block_is_free_in_page(page, block));
  page->free = block->next;
  block->next = nullptr;
  ++page->used;
  BlockTag& tag = page->tags[page->index_of(block)];
  tag.requested.store(static_cast<std::uint32_t>(size), std::memory_order_relaxed);
  tag.site.store(static_cast<std::uint32_t>(site), std::memory_order_release);
  return block;
}

void* allocate_from(ThreadHeap* heap, std::size_t cls, std::size_t size, SiteTag site) noexcept {
  Page* page = page_with_free_block(heap, cls);
  return page == nullptr ? nullptr : pop_block(page, page->free, size, site);
}

// Class for an aligned request: the smallest class >= size whose blocks all land on `alignment`
// (pages are slice aligned, so a block size that is a multiple of the alignment suffices).
std::size_t aligned_class(std::size_t size, std::size_t alignment) noexcept {
  std::size_t cls = size_class_of(size < alignment ? alignment : size);
  while (kClassSizes[cls] % alignment != 0) ++cls;
  return cls;
}

[[gnu::noinline]] void* allocate_slow(std::size_t size, std::size_t alignment, SiteTag site) noexcept {
  if (alignment < kMinAlignment) alignment = kMinAlignment;
  if (size > kMaxSmallSize || alignment > kSliceSize ||
      (alignment > kMinAlignment && (size + alignment - 1) / alignment * alignment > kMaxSmallSize))
    return huge_allocate(size, alignment, site);
  const std::size_t cls = alignment > kMinAlignment ? aligned_class(size, alignment) : size_class_of(size ? size : 1);

  ThreadState& state = tl_state;
  if (state.in_heap_op || state.thread_done) [[unlikely]] {
    // Nested inside a heap operation of this thread (a signal handler) or after its heap was given
    // up: use a heap nobody else is using, and give it back.
    ThreadHeap* borrowed = take_any_heap();
    if (borrowed == nullptr) return nullptr;
    void* p = allocate_from(borrowed, cls, size, site);
    push_abandoned(borrowed);
    return p;
  }
  if (state.heap == nullptr) {
    ensure_exit_key();
    ThreadHeap* heap = take_any_heap();
    if (heap == nullptr) return nullptr;
    state.heap = heap;
    pthread_setspecific(g_exit_key, heap);
  }
  HeapOpScope scope(state);
  return allocate_from(state.heap, cls, size, site);
}

[[gnu::noinline]] void remote_free(Page* page, FreeBlock* block) noexcept {
  FreeBlock* head = page->remote_free.load(std::memory_order_relaxed);
  do block->next = head;
  while (!page->remote_free.compare_exchange_weak(head, block, std::memory_order_release, std::memory_order_relaxed));
}

}  // namespace

// Fast path: about a dozen instructions with one predicted branch per step: class lookup, pop the
// current page's free list, write the tag. Everything else is in allocate_slow.
void* allocate(std::size_t size, std::size_t alignment, SiteTag site) noexcept {
  ThreadState& state = tl_state;
  ThreadHeap* heap = state.heap;
  if (size <= kMaxSmallSize && alignment <= kMinAlignment && heap != nullptr && !state.in_heap_op) [[likely]] {
    const std::size_t cls = size_class_of(size ? size : 1);
    HeapOpScope scope(state);
    Page* page = heap->current[cls];
    if (FreeBlock* block = page->free; block != nullptr) [[likely]] return pop_block(page, block, size, site);
  }
  return allocate_slow(size, alignment, site);
}

void* allocate_zeroed(std::size_t size, SiteTag site) noexcept {
  if (size > kMaxSmallSize) return huge_allocate(size, kMinAlignment, site, /*zeroed=*/true);  // cleared only if reused
  void* p = allocate(size, kMinAlignment, site);
  if (p != nullptr) std::memset(p, 0, size);
  return p;
}

BlockInfo deallocate(void* p) noexcept {
  if (p == nullptr) return {};
  Segment* segment = segment_of(p);
  if (segment == nullptr) [[unlikely]] return {};  // not ours
  if (segment->kind == SegmentKind::Huge) [[unlikely]] return huge_deallocate(segment, p);
  Page* page = page_of(segment, p);
  const std::uint32_t index = page->index_of(p);
  if (page->in_use.load(std::memory_order_relaxed) == 0 || index >= page->capacity.load(std::memory_order_relaxed) ||
      page->block_at(index) != p) [[unlikely]]
    return {};  // interior pointer or garbage
  BlockTag& tag = page->tags[index];
  ThreadState& state = tl_state;
  auto* block = static_cast<FreeBlock*>(p);
  // A second free of the block finds its site cleared and touches nothing. The site is read and then
  // cleared, not exchanged: the exchange, a locked instruction, was half the cost of a free. So two
  // threads freeing one pointer at the same instant may both free it, as under glibc; a double free
  // any time later is refused. (retag() changes a site only by CAS, so it never undoes a free.)
  const BlockInfo info{p, page->block_size, tag.requested.load(std::memory_order_relaxed),
                       static_cast<SiteTag>(tag.site.load(std::memory_order_relaxed))};
  if (info.site == SiteTag::Free) [[unlikely]] return {};
  tag.site.store(0, std::memory_order_release);
  // A free block remembers where it was last allocated, so that a second free can say (see
  // diagnose_bad_free); nothing else reads `requested` while the site says Free.
  tag.requested.store(static_cast<std::uint32_t>(info.site), std::memory_order_relaxed);
  if (page->heap == state.heap && !state.in_heap_op) [[likely]] {
    HeapOpScope scope(state);
    block->next = page->free;
    page->free = block;
    ThreadHeap* heap = state.heap;
    const std::size_t cls = page->size_class.load(std::memory_order_relaxed);
    if (page->is_full) [[unlikely]] {
      queue_remove(heap->full, page);
      page->is_full = 0;
      queue_push(heap->queue[cls], page);
    }
    // An emptied page is kept when it is its class's only one: a program whose few blocks of a size
    // come and go would otherwise retire and remake that page over and over (as mimalloc does, at
    // most one such page per class and thread heap).
    HEAPSNAP_ALLOC_ASSERT(page->used > 0);
    if (--page->used == 0 && heap->current[cls] != page && !(heap->queue[cls] == page && page->next == nullptr))
      retire_page(heap, page);
  } else {
    remote_free(page, block);
  }
  return info;
}

void after_fork_in_child() noexcept {
  ThreadHeap* mine = tl_state.heap;
  for (ThreadHeap* heap = g_all_heaps.load(std::memory_order_acquire); heap != nullptr; heap = heap->next_registered)
    if (heap != mine && !heap->abandoned.load(std::memory_order_relaxed)) push_abandoned(heap);
}

std::size_t metadata_bytes() noexcept { return g_metadata_bytes.load(std::memory_order_relaxed); }

}  // namespace heapsnap::alloc
