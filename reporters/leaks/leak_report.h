#pragma once
// The leak report (docs/leak-report.md): a snapshot's leak sites, their totals and the gate verdict,
// optionally relative to a baseline snapshot. Rendered by LeakReportJsonReporter and
// LeakReportTextReporter.

#include <optional>
#include <string>
#include <vector>

#include "reporters/leaks/cycle_shapes.h"
#include "reporters/leaks/leak_gate.h"
#include "snapshot/leak_sites.h"
#include "snapshot/snapshot.h"
#include "snapshot/suppression_filter.h"

namespace heapsnap {

// Unreachable cycles of one shape, as the leak report counts them.
struct LeakedCycles {
  CycleShape shape;                       // every cycle of the shape in the snapshot
  std::optional<std::uint64_t> baseline;  // only with a baseline: cycles of this shape in it
  // Cycles counted against the gate: all of the shape's, or with a baseline those beyond its count.
  std::uint64_t counted() const { return baseline ? shape.count() - *baseline : shape.count(); }
};

// A double or invalid free, with its stacks resolved (snapshot/snapshot.h: FreeError).
struct BadFreeReport {
  FreeErrorKind kind = FreeErrorKind::DoubleFree;
  std::uint64_t count = 0;
  std::uint64_t address = 0;
  Traceback freed_at;
  std::optional<Traceback> allocated_at;
};

inline constexpr std::string_view kLeakReportFormat = "heapsnap-leak-report";
inline constexpr int kLeakReportVersion = 1;

// Memory allocated while tracing was off, in a process whose tracing started later (Trace::before_tracing):
// no gate counts it, since no site of the program's can be blamed; the report shows it apart.
struct BeforeTracing {
  std::uint64_t size = 0;
  std::uint64_t count = 0;
  std::uint64_t unreachable_size = 0;   // of which the leak analysis found unreachable
  std::uint64_t unreachable_count = 0;
};

struct LeakReport {
  std::string snapshot_path;
  bool leak_analysis = false;                // false: every live block counted as leaked
  std::optional<ThreadStop> thread_stop;     // how the analysis stopped the threads, when the snapshot says
  std::optional<std::string> baseline_path;  // set when only growth over a baseline counts
  GateThresholds thresholds;
  std::vector<LeakSite> leaks;               // sorted, biggest first
  std::vector<LeakedCycles> cycles;          // unreachable cycles by shape, biggest first; with a
                                             // baseline only the shapes that have more cycles than in it
  std::vector<BadFreeReport> free_errors;     // every bad free of the snapshot (a baseline does not excuse them)
  LeakTotals totals;                         // sums over `leaks`, `cycles` and `free_errors`
  BeforeTracing before_tracing;              // not in `totals`, not gated
  GateResult gate;
  AppliedSuppressions suppressions;          // --suppressions: the rules and what each took out of the
                                             // snapshot (not the baseline) before the leaks were counted
};

LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const GateThresholds& thresholds);

// "leak verdict may be incomplete: 2 threads could not be stopped (signals: ptrace not permitted: ...)"
// when threads went unscanned or signals stopped them rather than ptrace; nothing otherwise.
std::optional<std::string> incomplete_verdict_warning(const ThreadStop& stop);

// Only what grew since `baseline` counts: leak sites per stack (see leak_growth), cycles per shape.
LeakReport build_leak_report(const Snapshot& snapshot, std::string snapshot_path, const Snapshot& baseline,
                             std::string baseline_path, const GateThresholds& thresholds);

}  // namespace heapsnap
