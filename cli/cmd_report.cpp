// heapsnap report SNAPSHOT... -o report.html: one self-contained HTML page of a run's snapshots (the
// heap over time, a flame graph at the peak and at the end, the top sites, the leaks), which opens in
// any browser without a network.

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/output_file.h"
#include "cli/snapshot_input.h"
#include "cli/terminal.h"
#include "reporters/html/html_page.h"
#include "reporters/html/html_report.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap::cli {
namespace {

class ReportCommand final : public Command {
 public:
  std::string_view name() const override { return "report"; }
  std::string_view summary() const override {
    return "Write a self-contained HTML report of snapshots: heap over time, flame graph, top sites, leaks";
  }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_paths_,
                   "Snapshot files of one run, e.g. NAME.snap-*.json and NAME.json from 'heapsnap run "
                   "--interval'; ordered by the time they were taken")
        ->required();
    app.add_option("-o,--output", output_.path, "The HTML file to write")->required()->option_text("REPORT.html");
    add_force_option(app, output_);
    app.add_flag("-q,--quiet", quiet_, "Do not say where the report was written");
    app.add_option("--title", title_, "The page's title (default: \"heapsnap report: <program>\")")->option_text("T");
  }

  int run() override {
    refuse_existing_output(output_);
    std::vector<ReportInput> inputs;
    std::vector<Snapshot> snapshots = read_snapshots(snapshot_paths_);
    for (std::size_t i = 0; i < snapshots.size(); ++i) inputs.push_back({snapshot_paths_[i], std::move(snapshots[i])});
    const HtmlReportReporter reporter(build_html_report(std::move(inputs), title_));
    write_output(output_, [&](std::ostream& out) { reporter.render(out); });
    if (!quiet_) std::cerr << "heapsnap: report written to " << output_.path << "\n";
    return kExitSuccess;
  }

 private:
  std::vector<std::string> snapshot_paths_;
  OutputFile output_;
  bool quiet_ = false;
  std::string title_;
};

}  // namespace

std::unique_ptr<Command> make_report_command() { return std::make_unique<ReportCommand>(); }

}  // namespace heapsnap::cli
