#include "cli/snapshot_input.h"

#include "cli/terminal.h"
#include "snapshot/snapshot_json.h"
#include "symbols/offline_symbolizer.h"

namespace heapsnap::cli {
namespace {

// One for the whole command: the snapshots of one run share their modules' debug files.
OfflineSymbolizer& local_symbolizer() {
  static DebugFileFinder finder([] {
    DebugFileSources local;
    local.debuginfod = false;
    return local;
  }());
  static OfflineSymbolizer symbolizer(finder);
  return symbolizer;
}

}  // namespace

void name_frames_locally(Snapshot& snapshot) { local_symbolizer().name_frames(snapshot); }

Snapshot read_snapshot(const std::string& path) {
  Snapshot snapshot = load_snapshot(path);
  name_frames_locally(snapshot);
  return snapshot;
}

std::vector<Snapshot> read_snapshots(const std::vector<std::string>& paths) {
  Progress progress("reading snapshot", paths.size());
  std::vector<Snapshot> snapshots;
  snapshots.reserve(paths.size());
  for (const std::string& path : paths) {
    progress.step(path);
    snapshots.push_back(read_snapshot(path));
  }
  return snapshots;
}

}  // namespace heapsnap::cli
