#include "cli/leak_gate_options.h"

#include <CLI/CLI.hpp>

#include "cli/snapshot_input.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/suppression_filter.h"

namespace heapsnap::cli {

void add_leak_gate_options(CLI::App& app, LeakGateOptions& options) {
  app.add_option("--max-leaked-bytes", options.thresholds.max_leaked_bytes,
                 "Fail when more bytes leaked than this (default 0)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  app.add_option("--max-leaked-blocks", options.thresholds.max_leaked_blocks,
                 "Fail when more blocks leaked than this (default 0)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  app.add_option("--max-cycles", options.thresholds.max_cycles,
                 "Fail when more unreachable reference cycles leaked than this (default: no limit of its "
                 "own; cycle members count as leaked blocks and bytes either way)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  app.add_option("--max-free-errors", options.thresholds.max_free_errors,
                 "Fail when the program freed memory that was not allocated (double or invalid frees) more "
                 "often than this (default 0)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  app.add_option("--baseline", options.baseline_path,
                 "Count only leaks that are new or grew since this older snapshot, per allocation stack")
      ->option_text("OLD");
  app.add_option("--suppressions", options.suppression_paths,
                 "Ignore the known leaks this file lists (docs/suppressions.md), in this snapshot and the "
                 "baseline; repeatable")
      ->option_text("FILE")
      ->allow_extra_args(false);
}

LeakReport gate_leak_report(const Snapshot& snapshot, const std::string& snapshot_path, const LeakGateOptions& options,
                            const SuppressionList& suppressions) {
  SuppressedSnapshot suppressed = apply_suppressions(snapshot, suppressions);
  LeakReport report;
  if (options.baseline_path.empty()) {
    report = build_leak_report(suppressed.snapshot, snapshot_path, options.thresholds);
  } else {
    const Snapshot baseline = apply_suppressions(read_snapshot(options.baseline_path), suppressions).snapshot;
    report = build_leak_report(suppressed.snapshot, snapshot_path, baseline, options.baseline_path, options.thresholds);
  }
  report.suppressions = std::move(suppressed.applied);
  return report;
}

std::string failure_reasons(const GateResult& gate) {
  std::string reasons;
  for (const std::string& reason : gate.reasons) reasons += (reasons.empty() ? "" : "; ") + reason;
  return reasons;
}

}  // namespace heapsnap::cli
