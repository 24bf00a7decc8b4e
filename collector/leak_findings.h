#pragma once
// The collector's analysis in the profiler's terms: per-block reachability and cycles of blocks.

#include "collector/reachability.h"
#include "runtime/snapshot_builder.h"

namespace heapsnap::collector {

LeakFindings to_findings(LeakAnalysis analysis);

}  // namespace heapsnap::collector
