// heapsnap symbolize SNAPSHOT -o OUT: names the frames a snapshot could only give as module offsets
// (stripped programs and libraries), from the modules' debug files: on this machine, on another, or
// from debuginfod. The profiled process records each such frame's module build-id and offset.

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/output_file.h"
#include "snapshot/snapshot_json.h"
#include "symbols/offline_symbolizer.h"

namespace heapsnap::cli {
namespace {

SnapshotEncoding encoding_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string start(kCborMagic.size(), '\0');
  in.read(start.data(), static_cast<std::streamsize>(start.size()));
  return in && start == kCborMagic ? SnapshotEncoding::Cbor : SnapshotEncoding::Json;
}

class SymbolizeCommand final : public Command {
 public:
  std::string_view name() const override { return "symbolize"; }
  std::string_view summary() const override {
    return "Name a snapshot's unnamed frames from debug files: debug directories, the modules, debuginfod";
  }

  void configure(CLI::App& app) override {
    app.add_option("SNAPSHOT", snapshot_path_, "Snapshot file written by 'heapsnap run'")->required();
    app.add_option("-o,--output", output_.path, "Write the symbolized snapshot to this file")->option_text("FILE");
    add_force_option(app, output_);
    app.add_flag("--in-place", in_place_, "Replace SNAPSHOT itself (atomically) instead of writing -o FILE");
    app.add_option("--debug-dir", extra_directories_,
                   "Also look for DIR/.build-id/xx/yyyy.debug here, before /usr/lib/debug (repeatable)")
        ->option_text("DIR");
    app.add_flag("--no-debuginfod", no_debuginfod_, "Do not ask debuginfod servers, even with DEBUGINFOD_URLS set");
    app.add_option("--debuginfod-timeout", debuginfod_seconds_,
                   "Seconds, in all, that downloads from debuginfod may take (default 10)")
        ->check(CLI::PositiveNumber)
        ->option_text("SECONDS");
  }

  int run() override {
    if (in_place_ == !output_.path.empty()) throw UsageError("give either -o FILE or --in-place");
    if (in_place_) output_ = {snapshot_path_, /*force=*/true};
    refuse_existing_output(output_);
    Snapshot snapshot = load_snapshot(snapshot_path_);
    DebugFileSources sources;
    sources.debug_directories.insert(sources.debug_directories.begin(), extra_directories_.begin(), extra_directories_.end());
    sources.debuginfod = !no_debuginfod_;
    sources.debuginfod_budget = std::chrono::milliseconds(static_cast<long long>(debuginfod_seconds_ * 1000));
    DebugFileFinder finder(sources);
    const OfflineSymbolization result = OfflineSymbolizer(finder).name_frames(snapshot);
    const SnapshotEncoding encoding = encoding_of_file(snapshot_path_);
    write_output(output_, [&](std::ostream& out) {
      if (encoding == SnapshotEncoding::Cbor) write_snapshot_cbor(snapshot, out);
      else write_snapshot_json(snapshot, out);
    });
    std::cerr << "heapsnap: named " << result.frames_named << " call site" << (result.frames_named == 1 ? "" : "s");
    if (result.from_debuginfod > 0) std::cerr << " (" << result.from_debuginfod << " debug files from debuginfod)";
    if (result.frames_left > 0) std::cerr << "; " << result.frames_left << " stay unnamed";
    std::cerr << "\n";
    if (!result.modules_without_debug_file.empty()) {
      std::cerr << "heapsnap: no debug file for:";
      for (const std::string& module : result.modules_without_debug_file) std::cerr << " " << (module.empty() ? "<unknown>" : module);
      std::cerr << "\n";
    }
    if (!finder.debuginfod_problem().empty()) std::cerr << "heapsnap: debuginfod: " << finder.debuginfod_problem() << "\n";
    return kExitSuccess;
  }

 private:
  std::string snapshot_path_;
  OutputFile output_;
  bool in_place_ = false;
  std::vector<std::string> extra_directories_;
  bool no_debuginfod_ = false;
  double debuginfod_seconds_ = 10;
};

}  // namespace

std::unique_ptr<Command> make_symbolize_command() { return std::make_unique<SymbolizeCommand>(); }

}  // namespace heapsnap::cli
