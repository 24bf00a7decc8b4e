#pragma once
// Thin wrappers over the OS virtual-memory calls. None of them allocates or locks: they are safe in a
// signal handler, before main, after exit and in a forked child.

#include <cstddef>
#include <cstdint>

namespace heapsnap::alloc {

// Maps `size` bytes of zeroed read-write memory aligned to `alignment` (a power of two >= page size).
// For segments, which the segment map identifies; everything else heapsnap maps uses os_map_internal.
void* os_map_aligned(std::size_t size, std::size_t alignment) noexcept;
void os_unmap(void* address, std::size_t size) noexcept;
// Grows or shrinks the mapping at `address` where it is (mremap without moving it): false when what
// follows it is not free. Shrinking always succeeds.
bool os_resize_in_place(void* address, std::size_t old_size, std::size_t new_size) noexcept;
// Returns the physical pages behind [address, address+size) to the OS; they read as zero afterwards.
void os_decommit(void* address, std::size_t size) noexcept;

// Heapsnap's own bookkeeping memory (thread heaps, tables, caches), page aligned and zeroed. It is
// registered so that a leak analysis, which scans the program's anonymous mappings for pointers, can
// leave it out: its words (block addresses among them) are heapsnap's, not the program's.
void* os_map_internal(std::size_t size) noexcept;
void os_unmap_internal(void* address, std::size_t size) noexcept;

// Bookkeeping that is not mapped by os_map_internal but lives in a module's writable segments (the
// allocator's static tables; the preload library's globals): registered the same way, so that the
// leak analysis leaves it out of that module's globals too.
void register_internal_memory(const void* start, std::size_t size) noexcept;

struct InternalMapping {
  std::uintptr_t start;
  std::size_t size;
};
// Calls visit(context, mapping) for every registered internal mapping, in no particular order.
// Returns false when some internal mapping could not be registered (the registry was full): that
// memory cannot be told apart from the program's.
bool for_each_internal_mapping(void (*visit)(void* context, InternalMapping mapping), void* context) noexcept;

}  // namespace heapsnap::alloc
