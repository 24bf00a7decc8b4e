#include "reporters/leak_report_json.h"

#include "reporters/frame_format.h"
#include "reporters/json_output.h"

namespace heapsnap {

LeakReportJsonReporter::LeakReportJsonReporter(LeakReport report) : report_(std::move(report)) {}

void LeakReportJsonReporter::render(std::ostream& out) const {
  using Json = nlohmann::ordered_json;
  Json leaks = Json::array();
  for (const LeakSite& site : report_.leaks) {
    Json leak = {{"kind", leak_kind_name(site.kind)},
                 {"traceback", traceback_to_json(site.traceback)},
                 {"size", site.size},
                 {"count", site.count}};
    if (site.baseline) leak["baseline"] = {{"size", site.baseline->size}, {"count", site.baseline->count}};
    leaks.push_back(std::move(leak));
  }
  const Json document = {
      {"format", kLeakReportFormat},
      {"version", kLeakReportVersion},
      {"snapshot", report_.snapshot_path},
      {"leak_analysis", report_.leak_analysis},
      {"leaks", std::move(leaks)},
      {"totals", {{"size", report_.totals.size}, {"count", report_.totals.count}, {"sites", report_.totals.sites}}},
      {"gate",
       {{"max_leaked_bytes", report_.thresholds.max_leaked_bytes},
        {"max_leaked_blocks", report_.thresholds.max_leaked_blocks},
        {"baseline", report_.baseline_path ? Json(*report_.baseline_path) : Json(nullptr)},
        {"passed", report_.gate.passed},
        {"reasons", report_.gate.reasons}}},
  };
  write_json(out, document);
}

}  // namespace heapsnap
