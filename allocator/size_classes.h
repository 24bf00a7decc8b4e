#pragma once
// Size classes: multiples of 16 up to 128 bytes, then four classes per power of two up to 128 KiB
// (at most 25% internal waste), as in mimalloc and jemalloc. Every power of two is a class, which
// is what aligned allocation relies on: a block of size 2^k in a 64 KiB-aligned page is 2^k aligned.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "allocator/config.h"

namespace heapsnap::alloc {

constexpr std::size_t kClassCount = 8 + 4 * 10;  // 16..128 step 16, then 4 per doubling 128..128 KiB

constexpr std::array<std::uint32_t, kClassCount> make_class_sizes() {
  std::array<std::uint32_t, kClassCount> sizes{};
  std::size_t i = 0;
  for (std::uint32_t s = 16; s <= 128; s += 16) sizes[i++] = s;
  for (std::uint32_t base = 128; base < kMaxSmallSize; base *= 2)
    for (std::uint32_t quarter = 1; quarter <= 4; ++quarter) sizes[i++] = base + quarter * (base / 4);
  return sizes;
}
inline constexpr auto kClassSizes = make_class_sizes();
static_assert(kClassSizes.back() == kMaxSmallSize);

// Class index of the smallest class holding `size` bytes (1 <= size <= kMaxSmallSize). Branch-light:
// one compare, then a bit scan.
constexpr std::size_t size_class_of(std::size_t size) {
  if (size <= 128) return size <= 16 ? 0 : (size - 1) / 16;
  const std::size_t w = std::size_t{63} - static_cast<std::size_t>(std::countl_zero(size - 1));  // floor(log2(size-1))
  const std::size_t quarter = ((size - 1) >> (w - 2)) & 3;  // which quarter of [2^w, 2^(w+1))
  return 8 + (w - 7) * 4 + quarter;
}

constexpr bool size_classes_are_consistent() {
  for (std::size_t size = 1; size <= kMaxSmallSize; ++size) {
    const std::size_t c = size_class_of(size);
    if (c >= kClassCount || kClassSizes[c] < size) return false;
    if (c > 0 && kClassSizes[c - 1] >= size) return false;
  }
  return true;
}

// Page run length, in slices, for a class: at least kMinBlocksPerPage blocks, at most kMaxPageBytes.
constexpr std::size_t slices_for_class(std::size_t cls) {
  const std::size_t want = kClassSizes[cls] * kMinBlocksPerPage;
  const std::size_t slices = (want + kSliceSize - 1) / kSliceSize;
  const std::size_t max_slices = kMaxPageBytes / kSliceSize;
  return slices < 1 ? 1 : (slices > max_slices ? max_slices : slices);
}

}  // namespace heapsnap::alloc
