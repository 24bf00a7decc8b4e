// heapsnap check SNAPSHOT: the CI leak gate. Exit 0 when the leaks are within the thresholds, 1 when
// not (with a one-line reason on stderr), 2 when an input cannot be used.

#include <filesystem>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "profiler/snapshot_json.h"
#include "reporters/leak_report.h"
#include "reporters/leak_report_json.h"
#include "reporters/leak_report_text.h"

namespace heapsnap::cli {
namespace {

class CheckCommand final : public Command {
 public:
  std::string_view name() const override { return "check"; }
  std::string_view summary() const override {
    return "Fail (exit 1) when a snapshot leaks more than allowed: the CI gate";
  }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_path_, "Snapshot file written by 'heapsnap run'")->required();
    app.add_option("--max-leaked-bytes", thresholds_.max_leaked_bytes,
                   "Fail when more bytes leaked than this (default 0)")
        ->check(CLI::NonNegativeNumber)
        ->option_text("N");
    app.add_option("--max-leaked-blocks", thresholds_.max_leaked_blocks,
                   "Fail when more blocks leaked than this (default 0)")
        ->check(CLI::NonNegativeNumber)
        ->option_text("N");
    app.add_option("--max-cycles", thresholds_.max_cycles,
                   "Fail when more unreachable reference cycles leaked than this (default: no limit of its "
                   "own; cycle members count as leaked blocks and bytes either way)")
        ->check(CLI::NonNegativeNumber)
        ->option_text("N");
    app.add_option("--max-free-errors", thresholds_.max_free_errors,
                   "Fail when the program freed memory that was not allocated (double or invalid frees) more "
                   "often than this (default 0)")
        ->check(CLI::NonNegativeNumber)
        ->option_text("N");
    app.add_option("--baseline", baseline_path_,
                   "Count only leaks that are new or grew since this older snapshot, per allocation stack")
        ->option_text("OLD");
    add_format_option(app, format_);
    app.add_option("-o,--output", report_path_, "Write the report to this file instead of standard output")
        ->option_text("REPORT");
    app.add_flag("--force", force_, "Replace the -o file if it exists");
  }

  int run() override {
    const bool to_file = !report_path_.empty();
    if (to_file && !force_ && std::filesystem::exists(std::filesystem::symlink_status(report_path_))) {
      throw UsageError(report_path_ + ": already exists (use --force to replace it)");
    }
    const Snapshot snapshot = load_snapshot(snapshot_path_);
    LeakReport report;
    if (baseline_path_.empty()) {
      report = build_leak_report(snapshot, snapshot_path_, thresholds_);
    } else {
      const Snapshot baseline = load_snapshot(baseline_path_);
      report = build_leak_report(snapshot, snapshot_path_, baseline, baseline_path_, thresholds_);
    }
    const GateResult gate = report.gate;

    std::unique_ptr<Reporter> reporter;
    if (format_ == OutputFormat::Json) {
      reporter = std::make_unique<LeakReportJsonReporter>(std::move(report));
    } else {
      reporter = std::make_unique<LeakReportTextReporter>(std::move(report));
    }
    if (to_file) {
      try {
        write_file_atomically(report_path_, [&](std::ostream& out) { reporter->render(out); },
                              force_ ? ExistingFile::Replace : ExistingFile::Keep);
      } catch (const std::runtime_error& error) {
        const std::string message = error.what();
        const bool exists = message.ends_with(": already exists");
        throw UsageError(message + (exists ? " (use --force to replace it)" : ""));
      }
    } else {
      reporter->render(std::cout);
      std::cout.flush();
    }

    if (gate.passed) return kExitSuccess;
    std::string reasons;
    for (const std::string& reason : gate.reasons) reasons += (reasons.empty() ? "" : "; ") + reason;
    std::cerr << "heapsnap: check failed: " << reasons << "\n";
    return kExitCheckFailed;
  }

 private:
  std::string snapshot_path_;
  std::string baseline_path_;
  std::string report_path_;
  GateThresholds thresholds_;
  OutputFormat format_ = OutputFormat::Text;
  bool force_ = false;
};

}  // namespace

std::unique_ptr<Command> make_check_command() { return std::make_unique<CheckCommand>(); }

}  // namespace heapsnap::cli
