// heapsnap trend SNAP1 SNAP2 SNAP3 ...: which allocation sites grow steadily across a series of
// snapshots (a leak in a long-running service), apart from those that plateau or churn.

#include <iostream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/snapshot_input.h"
#include "cli/terminal.h"
#include "reporters/trend/trend_json.h"
#include "reporters/trend/trend_report.h"
#include "reporters/trend/trend_text.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap::cli {
namespace {

class TrendCommand final : public Command {
 public:
  std::string_view name() const override { return "trend"; }
  std::string_view summary() const override {
    return "Find the allocation sites that grow steadily across a series of snapshots";
  }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOTS", snapshot_paths_,
                   "Snapshots of one program over time (e.g. NAME.snap-*.json from 'heapsnap run --interval'), "
                   "in any order: they are put in the order of their time")
        ->required();
    add_group_by_option(app, group_by_);
    add_limit_option(app, limit_);
    add_format_option(app, format_);
    app.add_option("--min-snapshots", min_snapshots_,
                   "Refuse a series shorter than this (default 3, the least that shows a trend)")
        ->check(CLI::Range(std::size_t{kMinTrendPoints}, std::size_t{1} << 20))
        ->option_text("K");
  }

  int run() override {
    if (snapshot_paths_.size() < min_snapshots_) {
      throw UsageError("trend needs at least " + std::to_string(min_snapshots_) + " snapshots (--min-snapshots), got " +
                       std::to_string(snapshot_paths_.size()));
    }
    std::vector<NamedSnapshot> series;
    std::vector<Snapshot> snapshots = read_snapshots(snapshot_paths_);
    for (std::size_t i = 0; i < snapshots.size(); ++i) series.push_back({snapshot_paths_[i], std::move(snapshots[i])});
    TrendReport report = build_trend_report(series, group_by_);
    std::unique_ptr<Reporter> reporter;
    if (format_ == OutputFormat::Json) {
      reporter = std::make_unique<TrendJsonReporter>(std::move(report), limit_);
    } else {
      reporter = std::make_unique<TrendTextReporter>(std::move(report), limit_);
    }
    reporter->render(std::cout);
    return kExitSuccess;
  }

 private:
  std::vector<std::string> snapshot_paths_;
  GroupBy group_by_ = GroupBy::Lineno;
  std::size_t limit_ = 10;
  std::size_t min_snapshots_ = kMinTrendPoints;
  OutputFormat format_ = OutputFormat::Text;
};

}  // namespace

std::unique_ptr<Command> make_trend_command() { return std::make_unique<TrendCommand>(); }

}  // namespace heapsnap::cli
