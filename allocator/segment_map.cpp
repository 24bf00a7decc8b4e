#include "allocator/segment_map.h"

#include <atomic>

#include "allocator/os.h"

namespace heapsnap::alloc {
namespace {

// 48-bit user address space in 4 MiB units: 2^26 units = 2^13 leaves of 2^13 entries (64 KiB each).
constexpr unsigned kAddressBits = 48;
constexpr unsigned kUnitBits = kAddressBits - kSegmentShift;  // 26
constexpr unsigned kLeafBits = 13;
constexpr std::size_t kLeafEntries = std::size_t{1} << kLeafBits;
constexpr std::size_t kRootEntries = std::size_t{1} << (kUnitBits - kLeafBits);

using Leaf = std::atomic<Segment*>[kLeafEntries];
constinit std::atomic<Leaf*> g_root[kRootEntries] = {};  // 64 KiB of .bss, zero until touched

std::uintptr_t unit_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p) >> kSegmentShift; }

Leaf* leaf_for(std::uintptr_t unit, bool create) noexcept {
  const std::uintptr_t root_index = unit >> kLeafBits;
  if (root_index >= kRootEntries) return nullptr;
  Leaf* leaf = g_root[root_index].load(std::memory_order_acquire);
  if (leaf != nullptr || !create) return leaf;
  auto* fresh = static_cast<Leaf*>(os_map_internal(sizeof(Leaf)));
  if (fresh == nullptr) return nullptr;
  if (!g_root[root_index].compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) {
    os_unmap_internal(fresh, sizeof(Leaf));  // another thread installed it first
    return leaf;
  }
  static std::atomic<bool> root_registered{false};
  if (!root_registered.exchange(true, std::memory_order_relaxed)) register_internal_memory(&g_root, sizeof g_root);
  return fresh;
}

}  // namespace

bool segment_map_insert(const void* base, std::size_t size, Segment* segment) noexcept {
  const std::uintptr_t first = unit_of(base);
  const std::uintptr_t count = size >> kSegmentShift;
  for (std::uintptr_t unit = first; unit < first + count; ++unit) {
    Leaf* leaf = leaf_for(unit, true);
    if (leaf == nullptr) {
      segment_map_erase(base, (unit - first) << kSegmentShift);
      return false;
    }
    (*leaf)[unit & (kLeafEntries - 1)].store(segment, std::memory_order_release);
  }
  return true;
}

void segment_map_erase(const void* base, std::size_t size) noexcept {
  const std::uintptr_t first = unit_of(base);
  const std::uintptr_t count = size >> kSegmentShift;
  for (std::uintptr_t unit = first; unit < first + count; ++unit)
    if (Leaf* leaf = leaf_for(unit, false)) (*leaf)[unit & (kLeafEntries - 1)].store(nullptr, std::memory_order_release);
}

Segment* segment_of(const void* p) noexcept {
  Leaf* leaf = leaf_for(unit_of(p), false);
  return leaf == nullptr ? nullptr : (*leaf)[unit_of(p) & (kLeafEntries - 1)].load(std::memory_order_acquire);
}

}  // namespace heapsnap::alloc
