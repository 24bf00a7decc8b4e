#pragma once
// Thin wrappers over the OS virtual-memory calls. None of them allocates or locks: they are safe in a
// signal handler, before main, after exit and in a forked child.

#include <cstddef>

namespace heapsnap::alloc {

// Maps `size` bytes of zeroed read-write memory aligned to `alignment` (a power of two >= page size).
void* os_map_aligned(std::size_t size, std::size_t alignment) noexcept;
void os_unmap(void* address, std::size_t size) noexcept;
// Returns the physical pages behind [address, address+size) to the OS; they read as zero afterwards.
void os_decommit(void* address, std::size_t size) noexcept;

}  // namespace heapsnap::alloc
