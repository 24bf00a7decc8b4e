#pragma once
// The leak report (docs/leak-report.md): a snapshot's leak sites, their totals and the gate verdict,
// optionally relative to a baseline snapshot. Rendered by LeakReportJsonReporter and
// LeakReportTextReporter.

#include <optional>
#include <string>
#include <vector>

#include "profiler/snapshot.h"
#include "reporters/leak_gate.h"
#include "reporters/leak_sites.h"

namespace heapsnap {

inline constexpr std::string_view kLeakReportFormat = "heapsnap-leak-report";
inline constexpr int kLeakReportVersion = 1;

struct LeakReport {
  std::string snapshot_path;
  bool leak_analysis = false;                // false: every live block counted as leaked
  std::optional<std::string> baseline_path;  // set when only growth over a baseline counts
  GateThresholds thresholds;
  std::vector<LeakSite> leaks;               // sorted, biggest first
  LeakTotals totals;                         // sums over `leaks`
  GateResult gate;
};

LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const GateThresholds& thresholds);

// Only what grew since `baseline` counts (see leak_growth).
LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const Snapshot& baseline,
                             std::string baseline_path, const GateThresholds& thresholds);

}  // namespace heapsnap
