#pragma once
// Address -> segment, for any address, in two dependent loads. This is how a free() of a foreign
// pointer, an interior pointer and a conservative scan's random word are all answered safely: an
// address whose 4 MiB unit is not registered is not ours.

#include <cstdint>

#include "allocator/types.h"

namespace heapsnap::alloc {

// Registers [base, base + size) as belonging to `segment` (size a multiple of kSegmentSize).
// Returns false when the map could not get memory for its leaves.
bool segment_map_insert(const void* base, std::size_t size, Segment* segment) noexcept;
void segment_map_erase(const void* base, std::size_t size) noexcept;
Segment* segment_of(const void* p) noexcept;

}  // namespace heapsnap::alloc
