#pragma once
// Size classes: multiples of 16 up to 128 bytes, then eight classes per power of two up to 128 KiB
// (at most 12.5% internal waste). mimalloc and jemalloc use four per doubling (25%); tcmalloc's
// table is about as fine as this. Real heaps are often dominated by one odd size (sqlite's 4368-byte
// page buffers, 17% over a 5120 class, 5% over a 4608 one), and glibc rounds to 16 bytes, so the
// finer classes are what keeps peak RSS near glibc's. Every power of two is a class, which is what
// aligned allocation relies on: a block of size 2^k in a 64 KiB-aligned page is 2^k aligned.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "allocator/config.h"

namespace heapsnap::alloc {

constexpr std::size_t kClassesPerDoubling = 8;
constexpr std::size_t kClassCount = 8 + kClassesPerDoubling * 10;  // 16..128 step 16, then 8 per doubling to 128 KiB

constexpr std::array<std::uint32_t, kClassCount> make_class_sizes() {
  std::array<std::uint32_t, kClassCount> sizes{};
  std::size_t i = 0;
  for (std::uint32_t s = 16; s <= 128; s += 16) sizes[i++] = s;
  for (std::uint32_t base = 128; base < kMaxSmallSize; base *= 2)
    for (std::uint32_t step = 1; step <= kClassesPerDoubling; ++step) sizes[i++] = base + step * (base / kClassesPerDoubling);
  return sizes;
}
inline constexpr auto kClassSizes = make_class_sizes();
static_assert(kClassSizes.back() == kMaxSmallSize);

// Class index of the smallest class holding `size` bytes (1 <= size <= kMaxSmallSize). Branch-light:
// one compare, then a bit scan.
constexpr std::size_t size_class_of(std::size_t size) {
  if (size <= 128) return size <= 16 ? 0 : (size - 1) / 16;
  const std::size_t w = std::size_t{63} - static_cast<std::size_t>(std::countl_zero(size - 1));  // floor(log2(size-1))
  const std::size_t eighth = ((size - 1) >> (w - 3)) & 7;  // which eighth of [2^w, 2^(w+1))
  return 8 + (w - 7) * kClassesPerDoubling + eighth;
}

constexpr bool size_classes_are_consistent() {
  for (std::size_t size = 1; size <= kMaxSmallSize; ++size) {
    const std::size_t c = size_class_of(size);
    if (c >= kClassCount || kClassSizes[c] < size) return false;
    if (c > 0 && kClassSizes[c - 1] >= size) return false;
  }
  return true;
}

// Page run length, in slices, for a class: at least kMinBlocksPerPage blocks, at most kMaxPageBytes,
// and long enough that the run's tail (what is left after its blocks and their 8-byte tags) is at most
// 1/32 of it where a run of at most kMaxPageBytes can do that, else the run that wastes least. An
// 8 KiB class in one slice holds 7 blocks and wastes 12.5%; in four, 31 blocks and 3%. A run is
// written only as far as it is used, so a longer one costs nothing until its blocks are.
constexpr std::size_t run_tail_bytes(std::size_t cls, std::size_t slices) {
  const std::size_t bytes = slices * kSliceSize;
  const std::size_t per_block = kClassSizes[cls] + 8;  // sizeof(BlockTag), static_asserted in types.h
  return bytes - bytes / per_block * per_block;
}

constexpr std::size_t slices_for_class(std::size_t cls) {
  const std::size_t want = kClassSizes[cls] * kMinBlocksPerPage;
  const std::size_t max_slices = kMaxPageBytes / kSliceSize;
  std::size_t slices = (want + kSliceSize - 1) / kSliceSize;
  slices = slices < 1 ? 1 : (slices > max_slices ? max_slices : slices);
  std::size_t least_wasteful = slices;
  for (std::size_t n = slices; n <= max_slices; ++n) {
    if (run_tail_bytes(cls, n) * 32 <= n * kSliceSize) return n;
    if (run_tail_bytes(cls, n) * least_wasteful < run_tail_bytes(cls, least_wasteful) * n) least_wasteful = n;
  }
  return least_wasteful;
}

}  // namespace heapsnap::alloc
