// heapsnap diff OLD NEW: what changed between two snapshots (tracemalloc's compare_to()).

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/exit_codes.h"
#include "cli/snapshot_input.h"
#include "reporters/activity_reports.h"
#include "reporters/diff_text.h"
#include "reporters/statistics_json.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/statistics.h"

namespace heapsnap::cli {
namespace {

class DiffCommand final : public Command {
 public:
  std::string_view name() const override { return "diff"; }
  std::string_view summary() const override { return "Show how memory per allocation site changed between two snapshots"; }

  void configure(CLI::App& app) override {
    app.add_option("OLD", old_path_, "The earlier snapshot")->required();
    app.add_option("NEW", new_path_, "The later snapshot")->required();
    add_statistics_options(app, options_);
    add_measure_option(app, measure_);
    add_format_option(app, format_);
  }

  int run() override {
    check_statistics_options(options_);
    const Snapshot older = read_snapshot(old_path_);
    const Snapshot newer = read_snapshot(new_path_);
    check_measure(measure_, options_, older, old_path_);
    check_measure(measure_, options_, newer, new_path_);
    if (measure_ != Measure::Live) {
      std::vector<SiteStatisticDiff> ranked = compare_site_statistics(newer, older, options_.group_by, measure_);
      if (format_ == OutputFormat::Json) ActivityDiffJsonReporter(std::move(ranked), options_).render(std::cout);
      else ActivityDiffTextReporter(std::move(ranked), measure_, options_).render(std::cout);
      return kExitSuccess;
    }
    std::vector<StatisticDiff> result = compare_to(newer, older, options_.group_by, options_.cumulative);
    std::unique_ptr<Reporter> reporter;
    if (format_ == OutputFormat::Json) {
      reporter = std::make_unique<DiffJsonReporter>(std::move(result), options_);
    } else {
      reporter = std::make_unique<DiffTextReporter>(std::move(result), options_);
    }
    reporter->render(std::cout);
    return kExitSuccess;
  }

 private:
  std::string old_path_;
  std::string new_path_;
  StatisticsReportOptions options_;
  OutputFormat format_ = OutputFormat::Text;
  Measure measure_ = Measure::Live;
};

}  // namespace

std::unique_ptr<Command> make_diff_command() { return std::make_unique<DiffCommand>(); }

}  // namespace heapsnap::cli
