#pragma once
// A snapshot's live memory as a tree of call stacks, the shape a flame graph draws: the root holds
// every trace, its children the oldest frames of the stacks, and a node the traces whose stacks pass
// through it. So a node's size is its own traces' (stacks that end there: allocated in that frame)
// plus its children's, and the root's is the snapshot's total.

#include <cstdint>
#include <map>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap {

// Distinct frames, each stored once, so that trees of several snapshots share them. Frames are told
// apart by their identity (file, line, function), as in statistics.
class FrameTable {
 public:
  std::uint32_t intern(const Frame& frame);
  const std::vector<Frame>& frames() const { return frames_; }

 private:
  std::map<Frame, std::uint32_t> index_;
  std::vector<Frame> frames_;
};

// Stacks cut at the snapshot's traceback limit do not start at the program's entry point: they hang
// under a node of this frame, so that their oldest captured frames are not mistaken for roots.
// A stack counts as cut when it has traceback_limit frames and had more: total_nframe alone also
// counts the standard-library frames dropped at the allocating end, which hide nothing older.
Frame older_frames_not_captured();
bool cut_at_limit(const Traceback& traceback, std::uint32_t traceback_limit);

struct FlameNode {
  std::uint32_t frame = 0;          // index into the FrameTable; meaningless for the root
  std::uint64_t size = 0;           // bytes of the traces whose stacks pass through this frame
  std::uint64_t count = 0;          // blocks of those traces
  std::uint64_t self_size = 0;      // of `size`, the bytes of stacks that end here (allocated here)
  std::uint64_t self_count = 0;     // of `count`, the blocks of stacks that end here
  std::vector<FlameNode> children;  // biggest first, then by frame

  // size == self_size + children's sizes, and the same for counts, in every node.
  bool sums_add_up() const;
};

// Traces of every domain and reachability are added together; an empty stack is the one frame
// "<unknown>" (analysed_frames). Throws std::out_of_range when a trace names a traceback the snapshot
// does not have.
FlameNode build_flame_tree(const Snapshot& snapshot, FrameTable& frames);

}  // namespace heapsnap
