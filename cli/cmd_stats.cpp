// heapsnap stats SNAPSHOT: where the live memory of a snapshot was allocated (tracemalloc's statistics()).

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/snapshot_input.h"
#include "reporters/activity_reports.h"
#include "reporters/statistics_json.h"
#include "reporters/top_text.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/statistics.h"

namespace heapsnap::cli {
namespace {

class StatsCommand final : public Command {
 public:
  std::string_view name() const override { return "stats"; }
  std::string_view summary() const override { return "Show the allocation sites that hold the most memory"; }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_path_, "Snapshot file written by 'heapsnap run'")->required();
    add_statistics_options(app, options_);
    add_measure_option(app, measure_);
    add_format_option(app, format_);
  }

  int run() override {
    check_statistics_options(options_);
    const Snapshot snapshot = read_snapshot(snapshot_path_);
    check_measure(measure_, options_, snapshot, snapshot_path_);
    if (measure_ != Measure::Live) {
      std::vector<SiteStatistic> ranked = site_statistics(snapshot, options_.group_by, measure_);
      if (format_ == OutputFormat::Json) ActivityJsonReporter(std::move(ranked), options_).render(std::cout);
      else ActivityTextReporter(std::move(ranked), measure_, options_, snapshot.peak_view, snapshot.traced_peak).render(std::cout);
      return kExitSuccess;
    }
    std::vector<Statistic> result = statistics(snapshot, options_.group_by, options_.cumulative);
    std::unique_ptr<Reporter> reporter;
    if (format_ == OutputFormat::Json) {
      reporter = std::make_unique<StatisticsJsonReporter>(std::move(result), options_);
    } else {
      reporter = std::make_unique<TopTextReporter>(std::move(result), options_);
    }
    reporter->render(std::cout);
    return kExitSuccess;
  }

 private:
  std::string snapshot_path_;
  StatisticsReportOptions options_;
  OutputFormat format_ = OutputFormat::Text;
  Measure measure_ = Measure::Live;
};

}  // namespace

std::unique_ptr<Command> make_stats_command() { return std::make_unique<StatsCommand>(); }

}  // namespace heapsnap::cli
