// heapsnap cycles SNAPSHOT: the reference cycles a snapshot recorded, grouped by shape; the leaked
// ones by default, the still reachable ones with --reachable.

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "profiler/snapshot_json.h"
#include "reporters/cycles_report.h"

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
    add_format_option(app, format_);
  }

  int run() override {
    CyclesReport report = build_cycles_report(load_snapshot(snapshot_path_), snapshot_path_, reachable_, limit_);
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
  bool reachable_ = false;
  std::size_t limit_ = 10;
  OutputFormat format_ = OutputFormat::Text;
};

}  // namespace

std::unique_ptr<Command> make_cycles_command() { return std::make_unique<CyclesCommand>(); }

}  // namespace heapsnap::cli
