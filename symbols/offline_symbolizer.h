#pragma once
// Names a snapshot's frames after the fact, on any machine that has the modules' debug files: every
// frame that recorded a build-id and a module offset but no source line (a stripped library, a
// program whose debug information was split off) is looked up in its module's debug file (found by
// debug_file_finder.h) with elfutils' libdw, and gets its function, file and line. The profiled process
// does not read those files at exit: libc's alone is 16 MiB and 0.2 s of every process's exit.
//
// One frame per call site: calls inlined at that site are not expanded into frames of their own (the
// in-process symbolizer does that for modules that carry their own debug information); the frame has
// the innermost function and its line.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"
#include "symbols/debug_file_finder.h"

namespace heapsnap {

struct OfflineSymbolization {
  std::size_t frames_named = 0;      // distinct call sites that got a source line or a better name
  std::size_t frames_left = 0;       // distinct call sites with a build-id whose debug file was not found or had nothing
  std::size_t from_debuginfod = 0;   // debug files fetched from debuginfod
  std::vector<std::string> modules_without_debug_file;  // their paths, each once
};

class DebugFileReader;

// Keeps each module's debug file open across the snapshots it names (a run's snapshots share libc).
class OfflineSymbolizer {
 public:
  explicit OfflineSymbolizer(DebugFileFinder& finder);
  ~OfflineSymbolizer();
  OfflineSymbolizer(const OfflineSymbolizer&) = delete;
  OfflineSymbolizer& operator=(const OfflineSymbolizer&) = delete;

  OfflineSymbolization name_frames(Snapshot& snapshot);

 private:
  DebugFileFinder& finder_;
  std::map<std::string, std::unique_ptr<DebugFileReader>> readers_;  // by build-id; null: no debug file
};

}  // namespace heapsnap
