// The C++ runtime and libbacktrace are linked into libheapsnap_preload.so (CMake option
// HEAPSNAP_STATIC_RUNTIME): a program that is not C++ then never loads libstdc++.so, which cost every
// process about 2 ms of relocations and page faults. libgcc_s stays shared: the exceptions heapsnap's
// API throws to the program must unwind with the same unwinder as the program's own. Their calls to malloc, calloc and realloc are
// wrapped at link time (-Wl,--wrap) to land here: what that runtime allocates works for heapsnap
// (libstdc++'s emergency exception pool at load, the exceptions heapsnap throws), so it is heapsnap's
// internal memory, never a trace of the program's and never a leak. Frees go to the exported free.

#include <cstddef>

#include "allocator/c_surface.h"

using heapsnap::alloc::BlockInfo;
using heapsnap::alloc::SiteTag;

extern "C" {

void* __wrap_malloc(std::size_t size) noexcept { return heapsnap::alloc::c_malloc(size, SiteTag::Internal); }

void* __wrap_calloc(std::size_t count, std::size_t size) noexcept {
  return heapsnap::alloc::c_calloc(count, size, SiteTag::Internal);
}

void* __wrap_realloc(void* p, std::size_t size) noexcept {
  BlockInfo freed;
  return heapsnap::alloc::c_realloc(p, size, SiteTag::Internal, freed);
}

}  // extern "C"
