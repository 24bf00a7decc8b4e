// Huge blocks: one mapping each, with a small header in front of the block. A registry of records,
// outside the mappings, lets heap walks list them without touching memory another thread may unmap.
// A few recently freed mappings are kept, still mapped and registered as (blockless) segments, for
// the next huge block of about their size: a program that allocates and frees many big blocks
// (dict resizes, growing buffers) would otherwise pay a mapping, its page faults and an unmapping
// each time, where glibc reuses its heap.

#include <atomic>
#include <cstring>

#include "allocator/internal.h"
#include "allocator/invariants.h"
#include "allocator/os.h"
#include "allocator/segment_map.h"

namespace heapsnap::alloc {
namespace {

struct HugeRecord {
  std::atomic<void*> block;                 // null while the record is free
  std::atomic<std::uint64_t> usable;
  std::atomic<std::uint64_t> requested;
  std::atomic<std::uint32_t> site;
  // Free-record stack link (index + 1, 0 = end). Atomic because a pop reads it while another thread may
  // already have popped the record and be pushing it again; the head's pop count rejects that read.
  std::atomic<std::uint32_t> next_free;
};

constexpr std::uint32_t kMaxHugeRecords = 1u << 20;  // live huge blocks at once; 32 MiB reserved, touched on use
std::atomic<HugeRecord*> g_records{nullptr};
std::atomic<std::uint32_t> g_records_used{0};  // high-water mark of record indices handed out
std::atomic<std::uint64_t> g_free_records{0};  // (pop count << 32) | (index + 1): ABA-safe stack head

HugeRecord* records() noexcept {
  HugeRecord* table = g_records.load(std::memory_order_acquire);
  if (table != nullptr) return table;
  auto* fresh = static_cast<HugeRecord*>(os_map_internal(sizeof(HugeRecord) * kMaxHugeRecords));
  if (fresh == nullptr) return nullptr;
  if (!g_records.compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) {
    os_unmap_internal(fresh, sizeof(HugeRecord) * kMaxHugeRecords);
    return table;
  }
  return fresh;
}

std::uint32_t take_record(HugeRecord* table) noexcept {
  std::uint64_t head = g_free_records.load(std::memory_order_acquire);
  while (static_cast<std::uint32_t>(head) != 0) {
    const std::uint32_t index = static_cast<std::uint32_t>(head) - 1;
    const std::uint64_t desired = ((head >> 32) + 1) << 32 | table[index].next_free.load(std::memory_order_relaxed);
    if (g_free_records.compare_exchange_weak(head, desired, std::memory_order_acquire, std::memory_order_acquire))
      return index;
  }
  const std::uint32_t index = g_records_used.fetch_add(1, std::memory_order_relaxed);
  return index < kMaxHugeRecords ? index : UINT32_MAX;
}

void give_back_record(HugeRecord* table, std::uint32_t index) noexcept {
  std::uint64_t head = g_free_records.load(std::memory_order_relaxed);
  do table[index].next_free.store(static_cast<std::uint32_t>(head), std::memory_order_relaxed);
  while (!g_free_records.compare_exchange_weak(head, (head & ~std::uint64_t{0xffffffff}) | (index + 1),
                                               std::memory_order_release, std::memory_order_relaxed));
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// The freed-mapping cache. Only mappings of blocks with the default alignment go in (their block sits
// one page in), so any of them fits any such request of its size.
constexpr int kCacheSlots = 8;
constexpr std::size_t kMaxCachedMapping = std::size_t{32} << 20;
constexpr std::size_t kMaxCachedBytes = std::size_t{64} << 20;
constexpr std::size_t kTrimAbove = std::size_t{1} << 20;  // unused tail of a reused mapping given back past this
std::atomic<Segment*> g_cache[kCacheSlots] = {};
std::atomic<std::size_t> g_cached_bytes{0};

std::size_t default_block_offset() { return round_up(sizeof(Segment), kOsPageSize); }

// Keeps a freed mapping for reuse; false when the cache is full (the caller unmaps it).
bool cache_mapping(Segment* segment) noexcept {
  if (segment->huge_block != reinterpret_cast<std::byte*>(segment) + default_block_offset()) return false;
  const std::size_t bytes = segment->mapping_size;
  if (bytes > kMaxCachedMapping) return false;
  if (g_cached_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes > kMaxCachedBytes) {
    g_cached_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    return false;
  }
  for (std::atomic<Segment*>& slot : g_cache) {
    Segment* empty = nullptr;
    if (slot.compare_exchange_strong(empty, segment, std::memory_order_release, std::memory_order_relaxed)) return true;
  }
  g_cached_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  return false;
}

// A cached mapping of at least `mapping_size` bytes and not more than twice that, taken out of the
// cache; null when there is none.
Segment* take_cached_mapping(std::size_t mapping_size) noexcept {
  for (std::atomic<Segment*>& slot : g_cache) {
    Segment* segment = slot.load(std::memory_order_acquire);
    if (segment == nullptr || segment->mapping_size < mapping_size || segment->mapping_size / 2 > mapping_size) continue;
    if (slot.compare_exchange_strong(segment, nullptr, std::memory_order_acquire, std::memory_order_relaxed)) {
      g_cached_bytes.fetch_sub(segment->mapping_size, std::memory_order_relaxed);
      return segment;
    }
  }
  return nullptr;
}

// Makes the segment's block a live block of `record`: visible to heap walks from here on (the block
// pointer is stored last, with release).
void* publish_block(HugeRecord* table, std::uint32_t record, Segment* segment, std::size_t size, SiteTag site) noexcept {
  segment->huge_record = record;
  HugeRecord& r = table[record];
  r.usable.store(segment->huge_usable, std::memory_order_relaxed);
  r.requested.store(size, std::memory_order_relaxed);
  r.site.store(static_cast<std::uint32_t>(site), std::memory_order_relaxed);
  r.block.store(segment->huge_block, std::memory_order_release);
  g_metadata_bytes.fetch_add(static_cast<std::size_t>(segment->huge_block - reinterpret_cast<std::byte*>(segment)),
                             std::memory_order_relaxed);
  return segment->huge_block;
}

}  // namespace

void* huge_allocate(std::size_t size, std::size_t alignment, SiteTag site, bool zeroed) noexcept {
  HugeRecord* table = records();
  if (table == nullptr) return nullptr;
  const std::size_t block_offset = round_up(sizeof(Segment), alignment > kOsPageSize ? alignment : kOsPageSize);
  if (size > (std::size_t{1} << 47) - block_offset) return nullptr;  // more than the address space
  const std::size_t mapping_size = round_up(block_offset + size, kOsPageSize);
  if (alignment <= kOsPageSize) {
    if (Segment* segment = take_cached_mapping(mapping_size)) {
      const std::uint32_t record = take_record(table);
      if (record != UINT32_MAX) {
        // Still mapped and in the segment map: only the block is new. What a calloc promises is
        // cleared; the unused tail, when large, goes back to the system (it reads as zero after).
        if (zeroed) std::memset(segment->huge_block, 0, size);
        if (segment->mapping_size - mapping_size >= kTrimAbove)
          os_decommit(reinterpret_cast<std::byte*>(segment) + mapping_size, segment->mapping_size - mapping_size);
        return publish_block(table, record, segment, size, site);
      }
      if (!cache_mapping(segment)) {
        segment_map_erase(segment, round_up(segment->mapping_size, kSegmentSize));
        os_unmap(segment, segment->mapping_size);
      }
      return nullptr;
    }
  }
  // Aligning the mapping to the block's alignment (when larger than a segment) aligns the block too.
  auto* segment = static_cast<Segment*>(os_map_aligned(mapping_size, alignment > kSegmentSize ? alignment : kSegmentSize));
  if (segment == nullptr) return nullptr;
  const std::uint32_t record = take_record(table);
  if (record == UINT32_MAX || !segment_map_insert(segment, round_up(mapping_size, kSegmentSize), segment)) {
    if (record != UINT32_MAX) give_back_record(table, record);
    os_unmap(segment, mapping_size);
    return nullptr;
  }
  segment->kind = SegmentKind::Huge;
  segment->mapping_size = mapping_size;
  segment->huge_block = reinterpret_cast<std::byte*>(segment) + block_offset;
  segment->huge_usable = mapping_size - block_offset;
  return publish_block(table, record, segment, size, site);
}

BlockInfo huge_deallocate(Segment* segment, void* p) noexcept {
  HEAPSNAP_ALLOC_ASSERT(segment_is_consistent(segment));
  if (p != segment->huge_block) return {};
  HugeRecord* table = g_records.load(std::memory_order_acquire);
  HugeRecord& r = table[segment->huge_record];
  void* expected = p;
  if (!r.block.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) return {};  // double free
  const BlockInfo info{p, segment->huge_usable, r.requested.load(std::memory_order_relaxed),
                       static_cast<SiteTag>(r.site.load(std::memory_order_relaxed))};
  give_back_record(table, segment->huge_record);
  const std::size_t mapping_size = segment->mapping_size;
  g_metadata_bytes.fetch_sub(mapping_size - segment->huge_usable, std::memory_order_relaxed);
  // Kept, mapped, for the next huge block of its size; not heapsnap's own (a snapshot's or a leak
  // analysis's buffers, freed once it is done: kept, they would only add to the peak RSS).
  if (info.site != SiteTag::Internal && cache_mapping(segment)) return info;
  segment_map_erase(segment, round_up(mapping_size, kSegmentSize));
  os_unmap(segment, mapping_size);
  return info;
}

// In place only. Moving the pages (mremap to a new address) would leave a moment in which the record
// names the old, unmapped address: a leak analysis that stopped this thread there would scan it.
// Each step below keeps what a stopped thread leaves consistent: memory is mapped before anything says
// it is the block's, and said not to be before it is unmapped.
void* huge_resize(Segment* segment, void* p, std::size_t size, SiteTag site) noexcept {
  HEAPSNAP_ALLOC_ASSERT(segment_is_consistent(segment));
  const std::size_t block_offset = default_block_offset();
  if (p != segment->huge_block || segment->huge_block != reinterpret_cast<std::byte*>(segment) + block_offset) return nullptr;
  if (size > (std::size_t{1} << 47) - block_offset) return nullptr;
  HugeRecord& r = g_records.load(std::memory_order_acquire)[segment->huge_record];
  if (r.block.load(std::memory_order_acquire) != p) return nullptr;  // freed: nothing to keep
  const std::size_t old_size = segment->mapping_size;
  const std::size_t new_size = round_up(block_offset + size, kOsPageSize);
  // The segment map covers whole kSegmentSize units from the mapping's start.
  const std::size_t old_units = round_up(old_size, kSegmentSize);
  const std::size_t new_units = round_up(new_size, kSegmentSize);
  auto* base = reinterpret_cast<std::byte*>(segment);
  if (new_size > old_size) {
    if (!os_resize_in_place(segment, old_size, new_size)) return nullptr;  // something follows the mapping
    if (new_units > old_units && !segment_map_insert(base + old_units, new_units - old_units, segment)) {
      os_resize_in_place(segment, new_size, old_size);  // giving pages back always works
      return nullptr;
    }
    segment->mapping_size = new_size;
    segment->huge_usable = new_size - block_offset;
    r.usable.store(segment->huge_usable, std::memory_order_relaxed);
    r.requested.store(size, std::memory_order_relaxed);
  } else {
    r.requested.store(size, std::memory_order_relaxed);
    r.usable.store(new_size - block_offset, std::memory_order_relaxed);
    segment->huge_usable = new_size - block_offset;
    segment->mapping_size = new_size;
    if (new_units < old_units) segment_map_erase(base + new_units, old_units - new_units);
    if (new_size < old_size) os_resize_in_place(segment, old_size, new_size);
  }
  r.site.store(static_cast<std::uint32_t>(site), std::memory_order_release);
  return p;
}

BlockInfo huge_find(Segment* segment, const void* p) noexcept {
  const auto* address = static_cast<const std::byte*>(p);
  if (address < segment->huge_block || address >= segment->huge_block + segment->huge_usable) return {};
  HugeRecord& r = g_records.load(std::memory_order_acquire)[segment->huge_record];
  if (r.block.load(std::memory_order_acquire) != segment->huge_block) return {};
  return {segment->huge_block, segment->huge_usable, r.requested.load(std::memory_order_relaxed),
          static_cast<SiteTag>(r.site.load(std::memory_order_relaxed))};
}

bool huge_retag(Segment* segment, void* p, SiteTag site, std::size_t requested) noexcept {
  if (p != segment->huge_block) return false;
  HugeRecord& r = g_records.load(std::memory_order_acquire)[segment->huge_record];
  r.requested.store(requested, std::memory_order_relaxed);
  r.site.store(static_cast<std::uint32_t>(site), std::memory_order_release);
  return true;
}

void huge_walk(BlockVisitor visit, void* context) noexcept {
  HugeRecord* table = g_records.load(std::memory_order_acquire);
  if (table == nullptr) return;
  const std::uint32_t used = g_records_used.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < used && i < kMaxHugeRecords; ++i) {
    void* block = table[i].block.load(std::memory_order_acquire);
    if (block == nullptr) continue;
    visit(context, {block, table[i].usable.load(std::memory_order_relaxed), table[i].requested.load(std::memory_order_relaxed),
                    static_cast<SiteTag>(table[i].site.load(std::memory_order_relaxed))});
  }
}

}  // namespace heapsnap::alloc
