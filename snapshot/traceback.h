#pragma once
// A call stack of an allocation, most recent frame first (the allocating function is frames[0]).

#include <cstdint>
#include <vector>

#include "snapshot/frame.h"

namespace heapsnap {

struct Traceback {
  std::vector<Frame> frames;     // most recent first; at most the snapshot's traceback_limit frames
  std::uint32_t total_nframe = 0;  // frames the stack had before truncation (>= frames.size())

  friend bool operator==(const Traceback& a, const Traceback& b) { return a.frames == b.frames; }
};

}  // namespace heapsnap
