#pragma once
// The C allocation functions' contracts (errno, overflow checks, the NULL and zero cases, alignment
// rules) on top of the arena, with the site passed in. The preload layer adds stack capture and
// exports them under the libc names.

#include <cerrno>
#include <cstddef>

#include "allocator/allocator.h"
#include "allocator/config.h"

namespace heapsnap::alloc {

// Inline: malloc is the call programs make most, and this adds only errno to allocate().
inline void* c_malloc(std::size_t size, SiteTag site) noexcept {
  void* p = allocate(size, kMinAlignment, site);
  if (p == nullptr) [[unlikely]] errno = ENOMEM;
  return p;
}
void* c_calloc(std::size_t count, std::size_t size, SiteTag site) noexcept;  // ENOMEM on overflow
// `freed` receives the old block (site Free when none was freed). realloc(p, 0) frees p and returns
// null, as glibc does; on failure the old block is untouched.
void* c_realloc(void* p, std::size_t size, SiteTag site, BlockInfo& freed) noexcept;
void* c_reallocarray(void* p, std::size_t count, std::size_t size, SiteTag site, BlockInfo& freed) noexcept;
int c_posix_memalign(void** out, std::size_t alignment, std::size_t size, SiteTag site) noexcept;
void* c_aligned_alloc(std::size_t alignment, std::size_t size, SiteTag site) noexcept;
void* c_memalign(std::size_t alignment, std::size_t size, SiteTag site) noexcept;
void* c_valloc(std::size_t size, SiteTag site) noexcept;
void* c_pvalloc(std::size_t size, SiteTag site) noexcept;

}  // namespace heapsnap::alloc
