#pragma once
// What `heapsnap cycles` lists (docs/cli.md#heapsnap-cycles): the reference cycles a snapshot recorded,
// leaked or still reachable, grouped by shape (cycle_shapes.h). Rendered by CyclesTextReporter and
// CyclesJsonReporter.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reporters/leaks/cycle_shapes.h"
#include "reporters/reporter.h"
#include "snapshot/snapshot.h"

namespace heapsnap {

inline constexpr std::string_view kCyclesReportFormat = "heapsnap-cycles";
inline constexpr int kCyclesReportVersion = 1;

struct CyclesReport {
  std::string snapshot_path;
  bool leak_analysis = false;      // the snapshot's: without it no cycles were looked for
  bool reachable = false;          // the reachable cycles (not leaks) rather than the leaked ones
  std::vector<CycleShape> shapes;  // all of them, biggest first
  std::size_t limit = 10;          // shapes shown; 0: all
  std::optional<CycleTotals> suppressed;  // with --suppressions: the leaked cycles they took out
};

CyclesReport build_cycles_report(const Snapshot& snapshot, std::string snapshot_path, bool reachable, std::size_t limit);

// "#1: 100 cycles of 2 blocks (96 B each): ..." with the members beneath, up to the limit, then one
// line summing up the other shapes.
class CyclesTextReporter final : public Reporter {
 public:
  explicit CyclesTextReporter(CyclesReport report);
  void render(std::ostream& out) const override;

 private:
  CyclesReport report_;
};

// {"format": "heapsnap-cycles", "version": 1, "snapshot", "leak_analysis", "reachable", "totals",
//  "shapes": [shape with its "cycles"]}: the shapes up to the limit, totals over all of them.
class CyclesJsonReporter final : public Reporter {
 public:
  explicit CyclesJsonReporter(CyclesReport report);
  void render(std::ostream& out) const override;

 private:
  CyclesReport report_;
};

}  // namespace heapsnap
