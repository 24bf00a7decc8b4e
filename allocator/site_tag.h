#pragma once
// The allocation-site tag the allocator stores for every block. The allocator treats it as opaque;
// the profiler maps it to an interned traceback.

#include <cstdint>

namespace heapsnap::alloc {

enum class SiteTag : std::uint32_t {
  Free = 0,        // never stored for a live block
  Untraced = 1,    // not traced: skipped by sampling, or its trace dropped (clear_traces, stop)
  Internal = 2,    // allocated by heapsnap itself: never reported, never scanned for pointers
  NotTracing = 3,  // allocated while tracing was off (a dormant process before `heapsnap ctl start`)
  FirstTraced = 4,
};

}  // namespace heapsnap::alloc
