#pragma once
// The allocation-site tag the allocator stores for every block. The allocator treats it as opaque;
// the profiler maps it to an interned traceback.

#include <cstdint>

namespace heapsnap::alloc {

enum class SiteTag : std::uint32_t {
  Free = 0,       // never stored for a live block
  Untraced = 1,   // allocated while tracing was off
  Internal = 2,   // allocated by heapsnap itself: never reported, never scanned for pointers
  FirstTraced = 3,
};

}  // namespace heapsnap::alloc
