#include "allocator/os.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>

#include "allocator/config.h"

namespace heapsnap::alloc {

void* os_map_aligned(std::size_t size, std::size_t alignment) noexcept {
  if (size > SIZE_MAX / 2 || alignment > SIZE_MAX / 2) return nullptr;  // no address space has that much
  size = (size + kOsPageSize - 1) & ~(kOsPageSize - 1);  // else the tail trim below fails and a page stays mapped
  // Over-map by the alignment, then trim both ends: no retries, no races with other mappers.
  const std::size_t padded = size + alignment;
  void* raw = mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (base + alignment - 1) & ~(std::uintptr_t{alignment} - 1);
  if (aligned > base) munmap(raw, aligned - base);
  const std::uintptr_t end = base + padded;
  if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  return reinterpret_cast<void*>(aligned);
}

void os_unmap(void* address, std::size_t size) noexcept { munmap(address, size); }

bool os_resize_in_place(void* address, std::size_t old_size, std::size_t new_size) noexcept {
  return mremap(address, old_size, new_size, 0) != MAP_FAILED;
}

void os_decommit(void* address, std::size_t size) noexcept { madvise(address, size, MADV_DONTNEED); }

namespace {

// A fixed table in .bss (untouched pages cost nothing): internal mappings are few (a thread heap and a
// counter table per thread, which are recycled, and a handful of tables), and mapped rarely, so a
// linear search for a free slot is cheap. Slots below g_used may be empty (released).
constexpr std::size_t kRegistrySlots = 16384;

struct Slot {
  std::atomic<std::uintptr_t> start;
  std::atomic<std::size_t> size;
};
constinit Slot g_slots[kRegistrySlots] = {};
std::atomic<std::size_t> g_used{0};          // slots ever claimed: the high-water mark
std::atomic<bool> g_overflowed{false};      // a mapping went unregistered

constexpr std::uintptr_t kClaiming = 1;  // a slot being filled: never a real page address

void register_internal(std::uintptr_t start, std::size_t size) noexcept {
  const std::size_t used = g_used.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used; ++i) {  // reuse a released slot first
    std::uintptr_t empty = 0;
    if (g_slots[i].start.load(std::memory_order_relaxed) == 0 &&
        g_slots[i].start.compare_exchange_strong(empty, kClaiming, std::memory_order_acquire)) {
      g_slots[i].size.store(size, std::memory_order_relaxed);
      g_slots[i].start.store(start, std::memory_order_release);
      return;
    }
  }
  const std::size_t fresh = g_used.fetch_add(1, std::memory_order_acq_rel);
  if (fresh >= kRegistrySlots) {
    g_used.store(kRegistrySlots, std::memory_order_release);
    g_overflowed.store(true, std::memory_order_release);
    return;
  }
  g_slots[fresh].size.store(size, std::memory_order_relaxed);
  g_slots[fresh].start.store(start, std::memory_order_release);
}

void unregister_internal(std::uintptr_t start) noexcept {
  const std::size_t used = g_used.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used && i < kRegistrySlots; ++i) {
    std::uintptr_t expected = start;
    if (g_slots[i].start.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) return;
  }
}

}  // namespace

void* os_map_internal(std::size_t size) noexcept {
  void* p = os_map_aligned(size, kOsPageSize);
  if (p != nullptr) register_internal(reinterpret_cast<std::uintptr_t>(p), size);
  return p;
}

void os_unmap_internal(void* address, std::size_t size) noexcept {
  unregister_internal(reinterpret_cast<std::uintptr_t>(address));
  os_unmap(address, size);
}

void register_internal_memory(const void* start, std::size_t size) noexcept {
  register_internal(reinterpret_cast<std::uintptr_t>(start), size);
}

bool for_each_internal_mapping(void (*visit)(void* context, InternalMapping mapping), void* context) noexcept {
  visit(context, {reinterpret_cast<std::uintptr_t>(&g_slots), sizeof g_slots});  // the registry itself
  const std::size_t claimed = g_used.load(std::memory_order_acquire);
  const std::size_t used = claimed < kRegistrySlots ? claimed : kRegistrySlots;
  for (std::size_t i = 0; i < used; ++i) {
    const std::uintptr_t start = g_slots[i].start.load(std::memory_order_acquire);
    if (start > kClaiming) visit(context, {start, g_slots[i].size.load(std::memory_order_relaxed)});
  }
  return !g_overflowed.load(std::memory_order_acquire);
}

}  // namespace heapsnap::alloc
