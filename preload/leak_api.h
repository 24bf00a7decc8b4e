#pragma once
// The collector's in-process API: leak analysis on demand, and who points to a block.

#include <vector>

#include "collector/referrer.h"
#include "preload/api.h"

namespace heapsnap {

struct CollectOptions {
  bool reachable_cycles = false;  // also list reference cycles that are still reachable
};

// Stops the other threads, classifies every live traced block as reachable or leaked (direct,
// indirect, member of a cycle), and returns the snapshot, cycles included. Requires tracing; throws
// std::runtime_error otherwise.
HEAPSNAP_API Snapshot collect_leaks(const CollectOptions& options = {});

// Every block and root that points into the live block holding `p` (empty when `p` is not in one).
HEAPSNAP_API std::vector<Referrer> get_referrers(const void* p);

}  // namespace heapsnap
