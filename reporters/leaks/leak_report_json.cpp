#include "reporters/leaks/leak_report_json.h"

#include "reporters/frame_format.h"
#include "reporters/json_output.h"
#include "reporters/leaks/cycle_format.h"

namespace heapsnap {

namespace {

nlohmann::ordered_json amount_to_json(const SuppressedAmount& amount) {
  return {{"blocks", amount.blocks}, {"bytes", amount.bytes}, {"cycles", amount.cycles}};
}

// Every rule with what it took out, and the rules that took out nothing (stale suppressions).
nlohmann::ordered_json suppressions_to_json(const AppliedSuppressions& applied) {
  using Json = nlohmann::ordered_json;
  Json rules = Json::array();
  Json unmatched = Json::array();
  for (std::size_t i = 0; i < applied.list.rules.size(); ++i) {
    const SuppressionRule& rule = applied.list.rules[i];
    Json entry = {{"file", rule.file},
                  {"line", rule.line},
                  {"kind", suppression_kind_name(rule.kind)},
                  {"pattern", rule.pattern}};
    entry.update(amount_to_json(applied.matched[i]));
    rules.push_back(std::move(entry));
    if (applied.matched[i].empty()) unmatched.push_back(i);
  }
  return {{"files", applied.list.files},
          {"rules", std::move(rules)},
          {"unmatched", std::move(unmatched)},
          {"totals", amount_to_json(applied.total())}};
}

// How the threads were stopped, and the warning the text report prints; null when the snapshot does not say.
nlohmann::ordered_json thread_stop_to_json(const std::optional<ThreadStop>& stop) {
  using Json = nlohmann::ordered_json;
  if (!stop) return nullptr;
  const std::optional<std::string> warning = incomplete_verdict_warning(*stop);
  return {{"method", stop_method_name(stop->method)},
          {"fallback_reason", stop->fallback_reason},
          {"threads_scanned", stop->threads_scanned},
          {"threads_unscanned", stop->threads_unscanned},
          {"warning", warning ? Json(*warning) : Json(nullptr)}};
}

}  // namespace

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
  // Cycles one by one, each naming its shape; the shapes as the text report prints them.
  Json cycles = Json::array();
  Json cycle_shapes = Json::array();
  for (std::size_t index = 0; index < report_.cycles.size(); ++index) {
    const LeakedCycles& leaked = report_.cycles[index];
    Json shape = shape_to_json(leaked.shape);
    if (leaked.baseline) {
      shape["baseline"] = {{"count", *leaked.baseline}};
      shape["growth"] = leaked.counted();
    }
    cycle_shapes.push_back(std::move(shape));
    for (const Cycle& cycle : leaked.shape.cycles) {
      Json entry = {{"shape", index}};
      entry.update(cycle_to_json(cycle, leaked.shape, true));
      cycles.push_back(std::move(entry));
    }
  }
  Json free_errors = Json::array();
  for (const BadFreeReport& error : report_.free_errors) {
    free_errors.push_back({{"kind", error.kind == FreeErrorKind::DoubleFree ? "double_free" : "invalid_free"},
                           {"count", error.count},
                           {"address", error.address},
                           {"freed_at", traceback_to_json(error.freed_at)},
                           {"allocated_at", error.allocated_at ? traceback_to_json(*error.allocated_at) : Json(nullptr)}});
  }
  const Json document = {
      {"format", kLeakReportFormat},
      {"version", kLeakReportVersion},
      {"snapshot", report_.snapshot_path},
      {"leak_analysis", report_.leak_analysis},
      {"thread_stop", thread_stop_to_json(report_.thread_stop)},
      {"leaks", std::move(leaks)},
      {"cycles", std::move(cycles)},
      {"cycle_shapes", std::move(cycle_shapes)},
      {"free_errors", std::move(free_errors)},
      {"totals",
       {{"size", report_.totals.size},
        {"count", report_.totals.count},
        {"sites", report_.totals.sites},
        {"cycles", report_.totals.cycles},
        {"free_errors", report_.totals.free_errors}}},
      {"before_tracing",
       {{"size", report_.before_tracing.size},
        {"count", report_.before_tracing.count},
        {"unreachable_size", report_.before_tracing.unreachable_size},
        {"unreachable_count", report_.before_tracing.unreachable_count}}},
      {"suppressions", suppressions_to_json(report_.suppressions)},
      {"gate",
       {{"max_leaked_bytes", report_.thresholds.max_leaked_bytes},
        {"max_leaked_blocks", report_.thresholds.max_leaked_blocks},
        {"max_cycles", report_.thresholds.max_cycles ? Json(*report_.thresholds.max_cycles) : Json(nullptr)},
        {"max_free_errors", report_.thresholds.max_free_errors},
        {"baseline", report_.baseline_path ? Json(*report_.baseline_path) : Json(nullptr)},
        {"passed", report_.gate.passed},
        {"reasons", report_.gate.reasons}}},
  };
  write_json(out, document);
}

}  // namespace heapsnap
