#include "allocator/os.h"

#include <sys/mman.h>

#include <cstdint>

namespace heapsnap::alloc {

void* os_map_aligned(std::size_t size, std::size_t alignment) noexcept {
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

void os_decommit(void* address, std::size_t size) noexcept { madvise(address, size, MADV_DONTNEED); }

}  // namespace heapsnap::alloc
