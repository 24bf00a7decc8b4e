// The whole C and C++ allocation surface, exported under the standard names so that LD_PRELOAD (or
// linking libheapsnap_preload.so first) routes every allocation of a program through the arena.
// Each entry point captures the caller's site (when tracing), allocates, and accounts. No exception
// leaves a C entry point; operator new keeps the standard's new-handler loop and std::bad_alloc.

#include <cerrno>
#include <cstddef>
#include <new>

#include "allocator/c_surface.h"
#include "allocator/config.h"
#include "runtime/free_errors.h"
#include "runtime/tracing.h"

namespace {

using heapsnap::alloc::BlockInfo;
using heapsnap::alloc::SiteTag;
namespace tracing = heapsnap::tracing;

// Frames of heapsnap between the program and traced_site_for_allocation: just the exported function, as
// every helper below is always inlined into it.
constexpr std::uint32_t kOwnFrames = 1;

[[gnu::always_inline]] inline SiteTag caller_site(std::size_t size) noexcept {
  return tracing::site_for_allocation(kOwnFrames, size);
}

[[gnu::always_inline]] inline void* accounted(void* p, SiteTag site, std::size_t size) noexcept {
  if (p != nullptr) tracing::account_allocated(site, size, p);
  return p;
}

[[gnu::always_inline]] inline void release(void* p) noexcept {
  if (p == nullptr) return;
  // Account from what the allocator says the block was: the same call that frees it, so no other
  // thread can reuse the block in between and have its allocation accounted before our free.
  const BlockInfo freed = heapsnap::alloc::deallocate(p);
  if (freed.site == SiteTag::Free) [[unlikely]] {
    heapsnap::record_bad_free(p, kOwnFrames);  // refused: a double or invalid free, or not ours
    return;
  }
  tracing::account_freed(freed);
}

[[gnu::always_inline]] inline void* reallocated(void* p, std::size_t size, SiteTag site, const BlockInfo& freed) noexcept {
  tracing::account_freed(freed);
  return accounted(p, site, size);
}

// operator new: retry through the new-handler, as [new.delete.single] requires.
[[gnu::always_inline]] inline void* new_or_throw(std::size_t size, std::size_t alignment) {
  const SiteTag site = caller_site(size);
  while (true) {
    if (void* p = heapsnap::alloc::allocate(size, alignment, site)) return accounted(p, site, size);
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

[[gnu::always_inline]] inline void* new_or_null(std::size_t size, std::size_t alignment) noexcept {
  const SiteTag site = caller_site(size);
  while (true) {
    if (void* p = heapsnap::alloc::allocate(size, alignment, site)) return accounted(p, site, size);
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    try {
      handler();
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }
}

constexpr std::size_t kDefaultNewAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

}  // namespace

#define HEAPSNAP_EXPORT extern "C" [[gnu::visibility("default")]]

HEAPSNAP_EXPORT void* malloc(std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  return accounted(heapsnap::alloc::c_malloc(size, site), site, size);
}

HEAPSNAP_EXPORT void free(void* p) noexcept { release(p); }

HEAPSNAP_EXPORT void* calloc(std::size_t count, std::size_t size) noexcept {
  const SiteTag site = caller_site(count * size);
  return accounted(heapsnap::alloc::c_calloc(count, size, site), site, count * size);
}

// realloc refused `p`: it was not a live block (c_realloc says EINVAL; with size 0 the free was refused).
// Out of memory is not a refusal: it leaves `p` as it was and sets ENOMEM.
[[gnu::always_inline]] inline bool refused(const void* p, const void* result, std::size_t size, const BlockInfo& freed) noexcept {
  return p != nullptr && result == nullptr && freed.address == nullptr && (size == 0 || errno == EINVAL);
}

HEAPSNAP_EXPORT void* realloc(void* p, std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  BlockInfo freed;
  void* result = heapsnap::alloc::c_realloc(p, size, site, freed);
  if (refused(p, result, size, freed)) [[unlikely]]
    heapsnap::record_bad_free(p, kOwnFrames);  // a bad pointer to realloc is a bad free, as glibc says
  return reallocated(result, size, site, freed);
}

HEAPSNAP_EXPORT void* reallocarray(void* p, std::size_t count, std::size_t size) noexcept {
  const SiteTag site = caller_site(count * size);
  BlockInfo freed;
  void* result = heapsnap::alloc::c_reallocarray(p, count, size, site, freed);
  if (refused(p, result, count * size, freed)) [[unlikely]] heapsnap::record_bad_free(p, kOwnFrames);
  return reallocated(result, count * size, site, freed);
}

HEAPSNAP_EXPORT int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  const int error = heapsnap::alloc::c_posix_memalign(out, alignment, size, site);
  if (error == 0) accounted(*out, site, size);
  return error;
}

HEAPSNAP_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  return accounted(heapsnap::alloc::c_aligned_alloc(alignment, size, site), site, size);
}

HEAPSNAP_EXPORT void* memalign(std::size_t alignment, std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  return accounted(heapsnap::alloc::c_memalign(alignment, size, site), site, size);
}

HEAPSNAP_EXPORT void* valloc(std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  return accounted(heapsnap::alloc::c_valloc(size, site), site, size);
}

HEAPSNAP_EXPORT void* pvalloc(std::size_t size) noexcept {
  const SiteTag site = caller_site(size);
  void* p = heapsnap::alloc::c_pvalloc(size, site);
  return accounted(p, site, p == nullptr ? 0 : heapsnap::alloc::find_block(p).requested);
}

HEAPSNAP_EXPORT std::size_t malloc_usable_size(void* p) noexcept { return heapsnap::alloc::usable_size(p); }

// --- C++ ----------------------------------------------------------------------------------------

#define HEAPSNAP_EXPORT_CXX [[gnu::visibility("default")]]

HEAPSNAP_EXPORT_CXX void* operator new(std::size_t size) { return new_or_throw(size, kDefaultNewAlignment); }
HEAPSNAP_EXPORT_CXX void* operator new[](std::size_t size) { return new_or_throw(size, kDefaultNewAlignment); }
HEAPSNAP_EXPORT_CXX void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return new_or_null(size, kDefaultNewAlignment);
}
HEAPSNAP_EXPORT_CXX void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return new_or_null(size, kDefaultNewAlignment);
}
HEAPSNAP_EXPORT_CXX void* operator new(std::size_t size, std::align_val_t alignment) {
  return new_or_throw(size, static_cast<std::size_t>(alignment));
}
HEAPSNAP_EXPORT_CXX void* operator new[](std::size_t size, std::align_val_t alignment) {
  return new_or_throw(size, static_cast<std::size_t>(alignment));
}
HEAPSNAP_EXPORT_CXX void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return new_or_null(size, static_cast<std::size_t>(alignment));
}
HEAPSNAP_EXPORT_CXX void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return new_or_null(size, static_cast<std::size_t>(alignment));
}

HEAPSNAP_EXPORT_CXX void operator delete(void* p) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete[](void* p) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete(void* p, std::size_t) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete[](void* p, std::size_t) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete(void* p, std::align_val_t) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
HEAPSNAP_EXPORT_CXX void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
