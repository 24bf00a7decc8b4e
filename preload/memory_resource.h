#pragma once
// A std::pmr::memory_resource over heapsnap's arena: pmr containers allocate traced blocks, with
// the same sites, snapshots and leak reports as malloc and new.

#include <memory_resource>

#include "preload/api.h"

namespace heapsnap {

// The process-wide resource; never destroyed, safe to use from static destructors.
HEAPSNAP_API std::pmr::memory_resource* arena_resource() noexcept;

}  // namespace heapsnap
