#pragma once
// The CI gate of `heapsnap check`: leaked bytes, blocks and (optionally) cycles against thresholds.
// The thresholds are inclusive maxima (the gate fails when a total *exceeds* one); 0 means any leak
// fails. Cycle members are leaked blocks too: they count against the byte and block limits whether or
// not there is a cycle limit.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heapsnap {

struct GateThresholds {
  std::uint64_t max_leaked_bytes = 0;
  std::uint64_t max_leaked_blocks = 0;
  std::optional<std::uint64_t> max_cycles;  // unreachable reference cycles; no limit of its own when unset
  std::uint64_t max_free_errors = 0;         // double and invalid frees: any one is a bug
};

struct LeakTotals {
  std::uint64_t size = 0;    // leaked bytes counted against the gate
  std::uint64_t count = 0;   // leaked blocks counted against the gate
  std::uint64_t sites = 0;   // leak sites holding them
  std::uint64_t cycles = 0;  // unreachable cycles counted against the gate
  std::uint64_t free_errors = 0;  // double and invalid frees, each time it happened
};

struct GateResult {
  bool passed = true;
  // One sentence per exceeded threshold, naming the flag, e.g.
  // "2 leaked blocks (1.5 KiB) exceed --max-leaked-blocks 0". Blocks first, then bytes, cycles and bad frees.
  std::vector<std::string> reasons;
};

// `against_baseline`: the totals are growth over a baseline, which the reasons say.
GateResult evaluate_gate(const LeakTotals& totals, const GateThresholds& thresholds, bool against_baseline);

}  // namespace heapsnap
