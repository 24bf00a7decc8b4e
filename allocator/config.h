#pragma once
// Geometry of the arena. See allocator.h for the strategy these numbers serve.

#include <cstddef>
#include <cstdint>

namespace heapsnap::alloc {

constexpr std::size_t kSegmentShift = 22;                    // segments are 4 MiB, 4 MiB aligned
constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;
constexpr std::size_t kSliceShift = 16;                      // a segment is cut into 64 KiB slices
constexpr std::size_t kSliceSize = std::size_t{1} << kSliceShift;
constexpr std::size_t kSlicesPerSegment = kSegmentSize / kSliceSize;  // 64: one uint64_t bitmap
constexpr std::size_t kMaxPageBytes = std::size_t{1} << 20;  // a page run is at most 1 MiB (16 slices)
constexpr std::size_t kMinBlocksPerPage = 8;                 // bounds tag-table and tail waste
constexpr std::size_t kMinAlignment = 16;                    // alignof(max_align_t) on x86-64/aarch64
constexpr std::size_t kMaxSmallSize = 128 * 1024;            // larger requests get their own mapping
constexpr std::size_t kOsPageSize = 4096;

}  // namespace heapsnap::alloc
