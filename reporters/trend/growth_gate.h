#pragma once
// The --max-growth gate of `heapsnap check SNAP1 ... SNAPn`: fails when an allocation line whose live
// size grows steadily across the series (TrendClass::Growing, sites grouped by line) grew by more than
// the limit from the first snapshot to the last. Lines that plateau or churn never fail it: a cache
// that fills up and stays full, or memory that comes and goes, is not a leak.

#include <cstdint>

#include "reporters/leaks/leak_gate.h"
#include "reporters/trend/trend_report.h"

namespace heapsnap {

// One reason per failing site, biggest growth first, e.g. "samples/service.cpp:41 (remember) grew
// steadily by 60.0 KiB (61440 bytes) over 12 snapshots, exceeding --max-growth 1024".
GateResult evaluate_growth_gate(const TrendReport& trend, std::uint64_t max_growth);

}  // namespace heapsnap
