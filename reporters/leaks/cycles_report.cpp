#include "reporters/leaks/cycles_report.h"

#include <algorithm>
#include <ostream>
#include <utility>

#include "reporters/json_output.h"
#include "reporters/leaks/cycle_format.h"
#include "snapshot/format_size.h"

namespace heapsnap {
namespace {

std::size_t shown_shapes(const CyclesReport& report) {
  return report.limit == 0 ? report.shapes.size() : std::min(report.limit, report.shapes.size());
}

CycleTotals totals_from(const std::vector<CycleShape>& shapes, std::size_t first) {
  CycleTotals totals;
  for (std::size_t i = first; i < shapes.size(); ++i) totals.add(shapes[i]);
  return totals;
}

std::string describe_totals(const CycleTotals& totals) {
  return std::to_string(totals.cycles) + (totals.cycles == 1 ? " cycle, " : " cycles, ") + format_size(totals.bytes) +
         " in " + std::to_string(totals.blocks) + (totals.blocks == 1 ? " block" : " blocks");
}

}  // namespace

CyclesReport build_cycles_report(const Snapshot& snapshot, std::string snapshot_path, bool reachable, std::size_t limit) {
  CyclesReport report;
  report.snapshot_path = std::move(snapshot_path);
  report.leak_analysis = snapshot.leak_analysis;
  report.reachable = reachable;
  report.shapes = cycle_shapes(snapshot, reachable ? CycleSelection::Reachable : CycleSelection::Unreachable);
  report.limit = limit;
  return report;
}

CyclesTextReporter::CyclesTextReporter(CyclesReport report) : report_(std::move(report)) {}

void CyclesTextReporter::render(std::ostream& out) const {
  const std::string& path = report_.snapshot_path;
  if (report_.suppressed) out << "Suppressed by --suppressions: " << describe_totals(*report_.suppressed) << "\n";
  if (!report_.leak_analysis && report_.shapes.empty()) {
    out << "No leak analysis ran for " << path << ", so no cycles were looked for (it was written with "
        << "'heapsnap run --no-leaks', on an interval, or by take_snapshot() rather than collect_leaks()).\n";
    return;
  }
  if (report_.shapes.empty()) {
    if (report_.reachable) {
      out << "No reachable cycles recorded in " << path << ". They are recorded only when the program runs with "
          << "HEAPSNAP_REACHABLE_CYCLES=1.\n";
    } else {
      out << "No leaked cycles in " << path << ".\n";
    }
    return;
  }
  const std::size_t shapes = report_.shapes.size();
  out << (report_.reachable ? "Reachable cycles (not leaks) in " : "Leaked cycles in ") << path << ": "
      << describe_totals(totals_from(report_.shapes, 0)) << ", " << shapes << (shapes == 1 ? " shape" : " shapes")
      << "\n";
  const std::size_t shown = shown_shapes(report_);
  for (std::size_t i = 0; i < shown; ++i) {
    out << "\n#" << (i + 1) << ": " << describe_shape(report_.shapes[i]) << "\n";
    write_shape_members(out, report_.shapes[i], "    ");
  }
  if (shown < shapes) {
    out << "\n" << (shapes - shown) << (shapes - shown == 1 ? " other shape: " : " other shapes: ")
        << describe_totals(totals_from(report_.shapes, shown)) << " (--limit 0 shows all)\n";
  }
}

CyclesJsonReporter::CyclesJsonReporter(CyclesReport report) : report_(std::move(report)) {}

void CyclesJsonReporter::render(std::ostream& out) const {
  using Json = nlohmann::ordered_json;
  Json shapes = Json::array();
  const std::size_t shown = shown_shapes(report_);
  for (std::size_t i = 0; i < shown; ++i) {
    const CycleShape& shape = report_.shapes[i];
    Json entry = shape_to_json(shape);
    Json cycles = Json::array();
    for (const Cycle& cycle : shape.cycles) cycles.push_back(cycle_to_json(cycle, shape, false));
    entry["cycles"] = std::move(cycles);
    shapes.push_back(std::move(entry));
  }
  const CycleTotals totals = totals_from(report_.shapes, 0);
  write_json(out, {{"format", kCyclesReportFormat},
                   {"version", kCyclesReportVersion},
                   {"snapshot", report_.snapshot_path},
                   {"leak_analysis", report_.leak_analysis},
                   {"reachable", report_.reachable},
                   {"totals",
                    {{"cycles", totals.cycles},
                     {"shapes", report_.shapes.size()},
                     {"blocks", totals.blocks},
                     {"bytes", totals.bytes}}},
                   {"suppressed", report_.suppressed ? Json{{"cycles", report_.suppressed->cycles},
                                                            {"blocks", report_.suppressed->blocks},
                                                            {"bytes", report_.suppressed->bytes}}
                                                      : Json(nullptr)},
                   {"shapes", std::move(shapes)}});
}

}  // namespace heapsnap
