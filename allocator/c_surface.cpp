#include "allocator/c_surface.h"

#include <cerrno>
#include <cstring>

#include "allocator/config.h"

namespace heapsnap::alloc {
namespace {

void* or_enomem(void* p) noexcept {
  if (p == nullptr) errno = ENOMEM;
  return p;
}

bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

std::size_t next_power_of_two(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

void* c_calloc(std::size_t count, std::size_t size, SiteTag site) noexcept {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) return or_enomem(nullptr);
  return or_enomem(allocate_zeroed(bytes, site));
}

void* c_realloc(void* p, std::size_t size, SiteTag site, BlockInfo& freed) noexcept {
  freed = {};
  if (p == nullptr) return c_malloc(size, site);
  if (size == 0) {
    freed = deallocate(p);
    return nullptr;
  }
  const BlockInfo old = find_block(p);
  if (old.address != p) {  // not a live block of ours: nothing we could copy from
    errno = EINVAL;
    return nullptr;
  }
  // Stay in place when the block still fits and would not waste more than half of it.
  if (size <= old.usable && size >= old.usable / 2 && retag(p, site, size)) {
    freed = old;
    return p;
  }
  if (old.usable > kMaxSmallSize && size > kMaxSmallSize) {
    if (void* resized = resize_huge_block(p, size, site)) {
      freed = old;
      return resized;
    }
  }
  void* fresh = allocate(size, kMinAlignment, site);
  if (fresh == nullptr) return or_enomem(nullptr);
  std::memcpy(fresh, p, old.usable < size ? old.usable : size);
  freed = deallocate(p);
  return fresh;
}

void* c_reallocarray(void* p, std::size_t count, std::size_t size, SiteTag site, BlockInfo& freed) noexcept {
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    freed = {};
    return or_enomem(nullptr);
  }
  return c_realloc(p, bytes, site, freed);
}

int c_posix_memalign(void** out, std::size_t alignment, std::size_t size, SiteTag site) noexcept {
  if (!is_power_of_two(alignment) || alignment % sizeof(void*) != 0) return EINVAL;
  void* p = allocate(size, alignment, site);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

void* c_aligned_alloc(std::size_t alignment, std::size_t size, SiteTag site) noexcept {
  if (!is_power_of_two(alignment)) {  // glibc accepts any power of two and any size
    errno = EINVAL;
    return nullptr;
  }
  return or_enomem(allocate(size, alignment, site));
}

void* c_memalign(std::size_t alignment, std::size_t size, SiteTag site) noexcept {
  // glibc rounds a non power of two up instead of failing.
  if (alignment > (std::size_t{1} << 47)) {
    errno = EINVAL;
    return nullptr;
  }
  return or_enomem(allocate(size, next_power_of_two(alignment), site));
}

void* c_valloc(std::size_t size, SiteTag site) noexcept { return c_memalign(kOsPageSize, size, site); }

void* c_pvalloc(std::size_t size, SiteTag site) noexcept {
  std::size_t rounded = 0;
  if (__builtin_add_overflow(size, kOsPageSize - 1, &rounded)) return or_enomem(nullptr);
  rounded &= ~(kOsPageSize - 1);
  return c_memalign(kOsPageSize, rounded == 0 ? kOsPageSize : rounded, site);
}

}  // namespace heapsnap::alloc
