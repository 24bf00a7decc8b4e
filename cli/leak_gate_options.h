#pragma once
// The leak gate's options and its evaluation, shared by `heapsnap check` and `heapsnap run --check`:
// thresholds, suppression files and a baseline, applied to one snapshot.

#include <string>
#include <vector>

#include "reporters/leaks/leak_gate.h"
#include "reporters/leaks/leak_report.h"
#include "snapshot/snapshot.h"
#include "snapshot/suppressions.h"

namespace CLI {
class App;
}

namespace heapsnap::cli {

struct LeakGateOptions {
  GateThresholds thresholds;
  std::vector<std::string> suppression_paths;
  std::string baseline_path;
};

// --max-leaked-bytes, --max-leaked-blocks, --max-cycles, --max-free-errors, --baseline, --suppressions.
void add_leak_gate_options(CLI::App& app, LeakGateOptions& options);

// The leak report of `snapshot` (read from `snapshot_path`) under the gate: `suppressions` taken out
// of it and of the baseline, counted against the baseline when there is one.
LeakReport gate_leak_report(const Snapshot& snapshot, const std::string& snapshot_path, const LeakGateOptions& options,
                            const SuppressionList& suppressions);

// "check failed: <reason>; <reason>" as the gate's one-line verdict says it.
std::string failure_reasons(const GateResult& gate);

}  // namespace heapsnap::cli
