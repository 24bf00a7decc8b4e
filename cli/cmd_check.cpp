// heapsnap check SNAPSHOT: the CI leak gate. Exit 0 when the leaks are within the thresholds, 1 when
// not (with a one-line reason on stderr), 2 when an input cannot be used.
// heapsnap check SNAP1 ... SNAPn --max-growth BYTES: the same gate on the latest leak-analysed snapshot
// of the series, and fail also when a line's live size grew steadily by more than BYTES across it
// (growth_gate.h).

#include <algorithm>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/leak_gate_options.h"
#include "cli/output_file.h"
#include "cli/snapshot_input.h"
#include "cli/terminal.h"
#include "reporters/leaks/leak_report.h"
#include "reporters/leaks/leak_report_json.h"
#include "reporters/leaks/leak_report_text.h"
#include "reporters/leaks/suppression_writer.h"
#include "reporters/trend/growth_gate.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/suppression_filter.h"

namespace heapsnap::cli {
namespace {

class CheckCommand final : public Command {
 public:
  std::string_view name() const override { return "check"; }
  std::string_view summary() const override {
    return "Fail (exit 1) when a snapshot leaks more than allowed: the CI gate";
  }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_paths_,
                   "Snapshot file written by 'heapsnap run'; with --max-growth, a series of them (the latest "
                   "with a leak analysis is checked for leaks)")
        ->required();
    add_leak_gate_options(app, gate_options_);
    app.add_flag("--gen-suppressions", gen_suppressions_,
                 "Print a suppression rule for each reported leak (Valgrind's format, docs/suppressions.md) "
                 "instead of the report, ready to paste into a --suppressions file; the report goes to -o if given");
    add_format_option(app, format_);
    app.add_option("-o,--output", output_.path, "Write the report to this file instead of standard output")
        ->option_text("REPORT");
    add_force_option(app, output_);
    app.add_option("--max-growth", max_growth_,
                   "With a series of snapshots: fail when an allocation line grew steadily across them by more "
                   "than this many bytes")
        ->check(CLI::NonNegativeNumber)
        ->option_text("BYTES");
  }

  int run() override {
    const bool to_file = !output_.path.empty();
    if (to_file) refuse_existing_output(output_);
    const SuppressionList suppressions = load_suppressions(gate_options_.suppression_paths);
    if (snapshot_paths_.size() > 1 && !max_growth_) {
      throw UsageError("several snapshots are checked only with --max-growth (to check one, give one)");
    }
    if (max_growth_ && snapshot_paths_.size() < kMinTrendPoints) {
      throw UsageError("--max-growth needs a series of at least " + std::to_string(kMinTrendPoints) + " snapshots");
    }
    std::vector<NamedSnapshot> series;
    std::vector<Snapshot> snapshots = read_snapshots(snapshot_paths_);
    for (std::size_t i = 0; i < snapshots.size(); ++i) series.push_back({snapshot_paths_[i], std::move(snapshots[i])});
    // The leak gate needs reachability: it checks the latest snapshot that has a leak analysis (the exit
    // snapshot of `run --interval`, whose interval snapshots have none), else the latest.
    order_series(series);
    auto gated = std::find_if(series.rbegin(), series.rend(), [](const NamedSnapshot& named) {
      return named.snapshot.leak_analysis;
    });
    if (gated == series.rend()) gated = series.rbegin();
    LeakReport report = gate_leak_report(gated->snapshot, gated->path, gate_options_, suppressions);
    if (max_growth_) {
      const GateResult growth = evaluate_growth_gate(build_trend_report(series, GroupBy::Lineno), *max_growth_);
      report.gate.reasons.insert(report.gate.reasons.end(), growth.reasons.begin(), growth.reasons.end());
      report.gate.passed = report.gate.passed && growth.passed;
    }
    const GateResult gate = report.gate;
    const std::string generated = gen_suppressions_ ? generate_suppressions(report) : std::string();

    std::unique_ptr<Reporter> reporter;
    if (format_ == OutputFormat::Json) {
      reporter = std::make_unique<LeakReportJsonReporter>(std::move(report));
    } else {
      // Colour for a person at a terminal only: never into a file (-o) or a pipe.
      const bool colour = !to_file && colour_on(STDOUT_FILENO);
      reporter = std::make_unique<LeakReportTextReporter>(std::move(report), LeakReportTextReporter::kDefaultSitesShown, colour);
    }
    if (to_file) {
      write_output(output_, [&](std::ostream& out) { reporter->render(out); });
    } else if (!gen_suppressions_) {
      reporter->render(std::cout);
    }
    std::cout << generated;
    std::cout.flush();

    if (gate.passed) return kExitSuccess;
    std::cerr << "heapsnap: check failed: " << failure_reasons(gate) << "\n";
    return kExitCheckFailed;
  }

 private:
  std::vector<std::string> snapshot_paths_;
  std::optional<std::uint64_t> max_growth_;
  LeakGateOptions gate_options_;
  bool gen_suppressions_ = false;
  OutputFile output_;
  OutputFormat format_ = OutputFormat::Text;
};

}  // namespace

std::unique_ptr<Command> make_check_command() { return std::make_unique<CheckCommand>(); }

}  // namespace heapsnap::cli
