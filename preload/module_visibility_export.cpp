// The preload library's dl_iterate_phdr: the static layers' symbols are not exported from
// libheapsnap_preload.so, so the interposition module_visibility.h describes is defined here, in one of
// the library's own sources.

#include <link.h>

#include <cstddef>

#include "runtime/module_visibility.h"

extern "C" [[gnu::visibility("default")]] int dl_iterate_phdr(int (*callback)(dl_phdr_info*, std::size_t, void*), void* data) {
  return heapsnap::iterate_visible_modules(callback, data);
}

namespace {
[[gnu::constructor]] void announce_interposition() { heapsnap::note_dl_iterate_phdr_interposed(); }
}  // namespace
