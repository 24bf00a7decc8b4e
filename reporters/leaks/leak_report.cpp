#include "reporters/leaks/leak_report.h"

#include <algorithm>
#include <utility>

namespace heapsnap {
namespace {

std::vector<LeakedCycles> leaked_cycles(const Snapshot& snapshot) {
  std::vector<LeakedCycles> result;
  for (CycleShape& shape : cycle_shapes(snapshot, CycleSelection::Unreachable)) result.push_back({std::move(shape), {}});
  return result;
}

// The shapes of `current` with more cycles than in `baseline`, each with the baseline's count.
std::vector<LeakedCycles> cycle_growth(const Snapshot& current, const Snapshot& baseline) {
  std::vector<CycleShape> before = cycle_shapes(baseline, CycleSelection::Unreachable);
  const auto less = [](const CycleShape& a, const CycleShape& b) { return compare_shapes(a, b) < 0; };
  std::sort(before.begin(), before.end(), less);
  std::vector<LeakedCycles> result;
  for (CycleShape& shape : cycle_shapes(current, CycleSelection::Unreachable)) {
    const auto match = std::lower_bound(before.begin(), before.end(), shape, less);
    const std::uint64_t was = match != before.end() && compare_shapes(*match, shape) == 0 ? match->count() : 0;
    if (shape.count() > was) result.push_back({std::move(shape), was});
  }
  return result;
}

std::vector<BadFreeReport> bad_frees(const Snapshot& snapshot) {
  std::vector<BadFreeReport> result;
  for (const FreeError& error : snapshot.free_errors) {
    BadFreeReport report{error.kind, error.count, error.address, snapshot.tracebacks[static_cast<std::uint32_t>(error.freed_at)], {}};
    if (error.allocated_at) report.allocated_at = snapshot.tracebacks[static_cast<std::uint32_t>(*error.allocated_at)];
    result.push_back(std::move(report));
  }
  return result;
}

LeakReport finish(const Snapshot& snapshot, std::string snapshot_path, std::optional<std::string> baseline_path,
                  const GateThresholds& thresholds, std::vector<LeakSite> leaks, std::vector<LeakedCycles> cycles) {
  LeakReport report;
  const bool leak_analysis = snapshot.leak_analysis;
  report.free_errors = bad_frees(snapshot);
  for (const BadFreeReport& error : report.free_errors) report.totals.free_errors += error.count;
  report.snapshot_path = std::move(snapshot_path);
  report.leak_analysis = leak_analysis;
  report.thread_stop = snapshot.thread_stop;
  report.baseline_path = std::move(baseline_path);
  report.thresholds = thresholds;
  report.leaks = std::move(leaks);
  report.cycles = std::move(cycles);
  for (const LeakSite& site : report.leaks) {
    report.totals.size += site.size;
    report.totals.count += site.count;
  }
  report.totals.sites = report.leaks.size();
  for (const LeakedCycles& cycles_of_shape : report.cycles) report.totals.cycles += cycles_of_shape.counted();
  for (const Trace& trace : snapshot.traces) {
    if (!trace.before_tracing) continue;
    report.before_tracing.size += trace.size;
    report.before_tracing.count += trace.count;
    const bool unreachable = leak_kind_of(trace.reachability).has_value();
    report.before_tracing.unreachable_size += unreachable ? trace.size : 0;
    report.before_tracing.unreachable_count += unreachable ? trace.count : 0;
  }
  report.gate = evaluate_gate(report.totals, thresholds, report.baseline_path.has_value());
  return report;
}

}  // namespace

std::optional<std::string> incomplete_verdict_warning(const ThreadStop& stop) {
  const bool fallback = stop.method == StopMethod::Signals;
  if (stop.threads_unscanned == 0 && !fallback) return std::nullopt;
  std::string how(stop_method_name(stop.method));
  if (!stop.fallback_reason.empty()) how += ": " + stop.fallback_reason;
  if (stop.threads_unscanned == 0) {
    // Every thread answered, so the verdict stands; a program whose threads block signals would not.
    return "every thread was scanned, but by the fallback method (" + how + ")";
  }
  const std::uint64_t n = stop.threads_unscanned;
  return "leak verdict may be incomplete: " + std::to_string(n) + (n == 1 ? " thread" : " threads") +
         " could not be stopped (" + how + ")";
}

LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const GateThresholds& thresholds) {
  return finish(snapshot, std::move(snapshot_path), std::nullopt, thresholds,
                collect_leak_sites(snapshot), leaked_cycles(snapshot));
}

LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const Snapshot& baseline,
                             std::string baseline_path, const GateThresholds& thresholds) {
  return finish(snapshot, std::move(snapshot_path), std::move(baseline_path), thresholds,
                leak_growth(snapshot, baseline), cycle_growth(snapshot, baseline));
}

}  // namespace heapsnap
