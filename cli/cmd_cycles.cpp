// heapsnap cycles SNAPSHOT: the reference cycles a snapshot recorded, grouped by shape; the leaked
// ones by default, the still reachable ones with --reachable.

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/snapshot_input.h"
#include "reporters/leaks/cycles_report.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/suppression_filter.h"

namespace heapsnap::cli {
namespace {

class CyclesCommand final : public Command {
 public:
  std::string_view name() const override { return "cycles"; }
  std::string_view summary() const override { return "List the reference cycles of a snapshot, grouped by shape"; }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_path_, "Snapshot file written by 'heapsnap run'")->required();
    app.add_flag("--reachable", reachable_,
                 "List the cycles that are still reachable (not leaks) instead of the leaked ones; they are "
                 "recorded when the program runs with HEAPSNAP_REACHABLE_CYCLES=1");
    app.add_option("--limit", limit_, "Shapes to show, the rest summed up (default 10; 0 shows all)")
        ->check(CLI::NonNegativeNumber)
        ->option_text("N");
    app.add_option("--suppressions", suppression_paths_,
                   "Leave out the leaked cycles this file suppresses (leak: and cycle: rules, "
                   "docs/suppressions.md); repeatable")
        ->option_text("FILE")
        ->allow_extra_args(false)
        ->excludes("--reachable");
    add_format_option(app, format_);
  }

  int run() override {
    const SuppressionList suppressions = load_suppressions(suppression_paths_);
    const Snapshot snapshot = read_snapshot(snapshot_path_);
    const SuppressedSnapshot suppressed = apply_suppressions(snapshot, suppressions);
    CyclesReport report = build_cycles_report(suppressed.snapshot, snapshot_path_, reachable_, limit_);
    if (!suppression_paths_.empty()) {
      // What the rules took out: the leaked cycles before, less those left.
      const auto leaked = [](const Snapshot& of) {
        CycleTotals totals;
        for (const Cycle& cycle : of.cycles) {
          if (cycle.reachable) continue;
          totals.cycles += 1;
          totals.blocks += cycle.members.size();
          totals.bytes += cycle.bytes;
        }
        return totals;
      };
      const CycleTotals before = leaked(snapshot);
      const CycleTotals after = leaked(suppressed.snapshot);
      report.suppressed = CycleTotals{before.cycles - after.cycles, before.blocks - after.blocks, before.bytes - after.bytes};
    }
    std::unique_ptr<Reporter> reporter;
    if (format_ == OutputFormat::Json) {
      reporter = std::make_unique<CyclesJsonReporter>(std::move(report));
    } else {
      reporter = std::make_unique<CyclesTextReporter>(std::move(report));
    }
    reporter->render(std::cout);
    return kExitSuccess;
  }

 private:
  std::string snapshot_path_;
  std::vector<std::string> suppression_paths_;
  bool reachable_ = false;
  std::size_t limit_ = 10;
  OutputFormat format_ = OutputFormat::Text;
};

}  // namespace

std::unique_ptr<Command> make_cycles_command() { return std::make_unique<CyclesCommand>(); }

}  // namespace heapsnap::cli
