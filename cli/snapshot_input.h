#pragma once
// How the commands that read snapshots load them: the file, then its frames that recorded only a
// module build-id and offset (stripped programs and libraries) named from debug files on this machine
// (debug directories, the modules themselves: see symbols/debug_file_finder.h), so that every report
// names libc's frames where libc6-dbg is installed. Nothing is fetched from the network here:
// `heapsnap symbolize` asks debuginfod, and writes the names into the file.

#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap::cli {

// Names the frames that recorded only a module build-id and offset, from this machine's debug files.
void name_frames_locally(Snapshot& snapshot);

// load_snapshot, then local symbolization. Throws SnapshotError as load_snapshot does.
Snapshot read_snapshot(const std::string& path);

// read_snapshot of each, in order, with progress on a terminal.
std::vector<Snapshot> read_snapshots(const std::vector<std::string>& paths);

}  // namespace heapsnap::cli
