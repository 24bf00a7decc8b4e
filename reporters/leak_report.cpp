#include "reporters/leak_report.h"

#include <utility>

namespace heapsnap {
namespace {

LeakReport finish(std::string snapshot_path, bool leak_analysis, std::optional<std::string> baseline_path,
                  const GateThresholds& thresholds, std::vector<LeakSite> leaks) {
  LeakReport report;
  report.snapshot_path = std::move(snapshot_path);
  report.leak_analysis = leak_analysis;
  report.baseline_path = std::move(baseline_path);
  report.thresholds = thresholds;
  report.leaks = std::move(leaks);
  for (const LeakSite& site : report.leaks) {
    report.totals.size += site.size;
    report.totals.count += site.count;
  }
  report.totals.sites = report.leaks.size();
  report.gate = evaluate_gate(report.totals, thresholds, report.baseline_path.has_value());
  return report;
}

}  // namespace

LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const GateThresholds& thresholds) {
  return finish(std::move(snapshot_path), snapshot.leak_analysis, std::nullopt, thresholds,
                collect_leak_sites(snapshot));
}

LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const Snapshot& baseline,
                             std::string baseline_path, const GateThresholds& thresholds) {
  return finish(std::move(snapshot_path), snapshot.leak_analysis, std::move(baseline_path), thresholds,
                leak_growth(snapshot, baseline));
}

}  // namespace heapsnap
