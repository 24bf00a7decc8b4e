#pragma once
// The live memory of a snapshot as weighted call stacks: what the export formats (speedscope, pprof,
// collapsed stacks) are made of. One stack per distinct (frames, reachability), traces of every domain
// added together, as statistics() adds domains together.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "profiler/snapshot.h"

namespace heapsnap {

struct WeightedStack {
  const std::vector<Frame>* frames = nullptr;  // most recent first; never empty: a trace without frames
                                               // has tracemalloc's one "<unknown>" frame (analysed_frames)
  std::uint64_t bytes = 0;                     // live bytes of the stack's blocks
  std::uint64_t blocks = 0;                    // live blocks
  Reachability reachability = Reachability::NotAnalyzed;
};

// Sorted by frames oldest first (compare_tracebacks' order, so that a time-ordered view of the samples
// reads like a flame graph), then reachability. The frames point into `snapshot`, which must outlive
// the result.
std::vector<WeightedStack> weighted_stacks(const Snapshot& snapshot);

// What a frame is called in an export: its function, or "file:line" when it has none (frames converted
// from Python have no function).
std::string export_frame_name(const Frame& frame);

// `text` with every byte sequence that is not valid UTF-8 replaced by U+FFFD: the formats are UTF-8, and
// file and symbol names are arbitrary bytes.
std::string valid_utf8(std::string_view text);

// "direct", "indirect", "cycle", "reachable", or "not_analyzed", as the snapshot file spells them.
std::string_view reachability_name(Reachability reachability);

}  // namespace heapsnap
