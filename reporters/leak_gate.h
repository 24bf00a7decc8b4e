#pragma once
// The CI gate of `heapsnap check`: leaked bytes and blocks against thresholds. The thresholds are
// inclusive maxima (the gate fails when a total *exceeds* one); 0 means any leak fails.

#include <cstdint>
#include <string>
#include <vector>

namespace heapsnap {

struct GateThresholds {
  std::uint64_t max_leaked_bytes = 0;
  std::uint64_t max_leaked_blocks = 0;
};

struct LeakTotals {
  std::uint64_t size = 0;   // leaked bytes counted against the gate
  std::uint64_t count = 0;  // leaked blocks counted against the gate
  std::uint64_t sites = 0;  // leak sites holding them
};

struct GateResult {
  bool passed = true;
  // One sentence per exceeded threshold, naming the flag, e.g.
  // "2 leaked blocks (1.5 KiB) exceed --max-leaked-blocks 0". Blocks first, then bytes.
  std::vector<std::string> reasons;
};

// `against_baseline`: the totals are growth over a baseline, which the reasons say.
GateResult evaluate_gate(const LeakTotals& totals, const GateThresholds& thresholds, bool against_baseline);

}  // namespace heapsnap
