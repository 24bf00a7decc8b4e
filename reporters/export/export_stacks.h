#pragma once
// The live memory of a snapshot as weighted call stacks: what the export formats (speedscope, pprof,
// collapsed stacks) are made of. One stack per distinct (frames, reachability), traces of every domain
// added together, as statistics() adds domains together. Frames are interned: each distinct frame
// (filename, lineno, function) once, stacks hold their indices.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap {

using ExportFrameId = std::uint32_t;  // index into ExportStacks::frames

struct WeightedStack {
  std::vector<ExportFrameId> frames;  // most recent first; never empty: a trace without frames has
                                      // tracemalloc's one "<unknown>" frame (analysed_frames)
  std::uint64_t bytes = 0;            // live bytes of the stack's blocks
  std::uint64_t blocks = 0;           // live blocks
  Reachability reachability = Reachability::NotAnalyzed;
  std::uint64_t calls = 0;            // with activity: allocations since tracing started
  std::uint64_t allocated = 0;        // with activity: the bytes they asked for
};

struct ExportStacks {
  // Every distinct frame of the stacks once, sorted by identity, so that comparing two stacks' ids
  // compares their frames. The first occurrence's module and address are kept. Point into the
  // snapshot, which must outlive this.
  std::vector<const Frame*> frames;
  // Sorted by frames oldest first (compare_tracebacks' order, so that a time-ordered view of the
  // samples reads like a flame graph), then reachability.
  std::vector<WeightedStack> stacks;
};

// Throws std::out_of_range when a trace names a traceback the snapshot does not have.
// `with_activity`: the snapshot's per-site activity is added too, its calls and bytes allocated on the
// first stack (in reachability order) with the same frames, or on a stack of its own without live
// blocks (reachability NotAnalyzed) when the site holds none.
ExportStacks weighted_stacks(const Snapshot& snapshot, bool with_activity = false);

// What a frame is called in an export: its function, or "file:line" when it has none (frames converted
// from Python have no function).
std::string export_frame_name(const Frame& frame);

// `text` with every byte sequence that is not valid UTF-8 replaced by U+FFFD: the formats are UTF-8, and
// file and symbol names are arbitrary bytes.
std::string valid_utf8(std::string_view text);

// "direct", "indirect", "cycle", "reachable", or "not_analyzed", as the snapshot file spells them.
std::string_view reachability_name(Reachability reachability);

}  // namespace heapsnap
