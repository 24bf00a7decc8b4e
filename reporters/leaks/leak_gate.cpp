#include "reporters/leaks/leak_gate.h"

#include "snapshot/format_size.h"

namespace heapsnap {

GateResult evaluate_gate(const LeakTotals& totals, const GateThresholds& thresholds, bool against_baseline) {
  GateResult result;
  const std::string leaked = against_baseline ? " new leaked " : " leaked ";
  const std::string since = against_baseline ? " since the baseline" : "";
  if (totals.count > thresholds.max_leaked_blocks) {
    result.reasons.push_back(std::to_string(totals.count) + leaked + (totals.count == 1 ? "block" : "blocks") +
                             since + " (" + format_size(totals.size) + ") " +
                             (totals.count == 1 ? "exceeds" : "exceed") + " --max-leaked-blocks " +
                             std::to_string(thresholds.max_leaked_blocks));
  }
  if (totals.size > thresholds.max_leaked_bytes) {
    // "1536 leaked bytes (1.5 KiB)", but not "105 leaked bytes (105 B)".
    const std::string bytes = std::to_string(totals.size);
    const std::string human = format_size(totals.size);
    result.reasons.push_back(bytes + leaked + (totals.size == 1 ? "byte" : "bytes") + since +
                             (human == bytes + " B" ? "" : " (" + human + ")") +
                             (totals.size == 1 ? " exceeds" : " exceed") + " --max-leaked-bytes " +
                             std::to_string(thresholds.max_leaked_bytes));
  }
  if (thresholds.max_cycles && totals.cycles > *thresholds.max_cycles) {
    result.reasons.push_back(std::to_string(totals.cycles) + leaked + (totals.cycles == 1 ? "cycle" : "cycles") +
                             since + (totals.cycles == 1 ? " exceeds" : " exceed") + " --max-cycles " +
                             std::to_string(*thresholds.max_cycles));
  }
  if (totals.free_errors > thresholds.max_free_errors) {
    result.reasons.push_back(std::to_string(totals.free_errors) + (totals.free_errors == 1 ? " bad free" : " bad frees") +
                             " (double or invalid) " + (totals.free_errors == 1 ? "exceeds" : "exceed") +
                             " --max-free-errors " + std::to_string(thresholds.max_free_errors));
  }
  result.passed = result.reasons.empty();
  return result;
}

}  // namespace heapsnap
