// heapsnap export SNAPSHOT --format speedscope|pprof|collapsed: the live memory of a snapshot in the
// formats of other tools (speedscope, pprof, flamegraph.pl/inferno), weighted by live bytes.

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/output_file.h"
#include "cli/snapshot_input.h"
#include "reporters/export/collapsed_export.h"
#include "reporters/export/pprof_export.h"
#include "reporters/export/speedscope_export.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap::cli {
namespace {

enum class ExportFormat { Speedscope, Pprof, Collapsed };

class ExportCommand final : public Command {
 public:
  std::string_view name() const override { return "export"; }
  std::string_view summary() const override {
    return "Write a snapshot's live memory for speedscope, pprof or flame graphs (collapsed stacks)";
  }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_path_, "Snapshot file written by 'heapsnap run'")->required();
    const std::map<std::string, ExportFormat> names{
        {"speedscope", ExportFormat::Speedscope}, {"pprof", ExportFormat::Pprof}, {"collapsed", ExportFormat::Collapsed}};
    app.add_option("--format", format_,
                   "speedscope (JSON for speedscope.app), pprof (gzip-compressed protobuf for pprof), or "
                   "collapsed (stacks for flamegraph.pl and inferno)")
        ->transform(CLI::CheckedTransformer(names))
        ->option_text("speedscope|pprof|collapsed")
        ->required();
    app.add_option("-o,--output", output_.path,
                   "Write to this file ('-': standard output, the default for speedscope and collapsed)")
        ->option_text("FILE");
    add_force_option(app, output_);
  }

  int run() override {
    const bool to_stdout = output_.path.empty() || output_.path == "-";
    if (format_ == ExportFormat::Pprof && output_.path.empty()) {
      throw UsageError("pprof profiles are binary: give -o FILE (or -o - to write to standard output)");
    }
    if (!to_stdout) refuse_existing_output(output_);
    const Snapshot snapshot = read_snapshot(snapshot_path_);
    std::unique_ptr<Reporter> exporter;
    switch (format_) {
      case ExportFormat::Speedscope:
        exporter = std::make_unique<SpeedscopeExporter>(
            snapshot, std::filesystem::path(snapshot_path_).filename().string());
        break;
      case ExportFormat::Pprof: exporter = std::make_unique<PprofExporter>(snapshot); break;
      case ExportFormat::Collapsed: exporter = std::make_unique<CollapsedExporter>(snapshot); break;
    }
    if (to_stdout) {
      exporter->render(std::cout);
      std::cout.flush();
      if (!std::cout) throw std::runtime_error("cannot write to standard output");
      return kExitSuccess;
    }
    write_output(output_, [&](std::ostream& out) { exporter->render(out); });
    return kExitSuccess;
  }

 private:
  std::string snapshot_path_;
  OutputFile output_;
  ExportFormat format_ = ExportFormat::Speedscope;
};

}  // namespace

std::unique_ptr<Command> make_export_command() { return std::make_unique<ExportCommand>(); }

}  // namespace heapsnap::cli
