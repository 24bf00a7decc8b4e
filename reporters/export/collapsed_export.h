#pragma once
// A snapshot's live memory as collapsed stacks, the input of flamegraph.pl and inferno: one line per
// distinct stack, "root;caller;...;allocating frame BYTES", sorted. A frame reads
// "function (file:line)" ("file:line" when it has no function); ';' inside a name becomes ':' and line
// breaks become spaces, so that a frame is always one field.

#include "reporters/reporter.h"
#include "snapshot/snapshot.h"

namespace heapsnap {

class CollapsedExporter final : public Reporter {
 public:
  explicit CollapsedExporter(const Snapshot& snapshot) : snapshot_(snapshot) {}
  void render(std::ostream& out) const override;

 private:
  const Snapshot& snapshot_;
};

// The name of `frame` in a collapsed stack (exposed for tests).
std::string collapsed_frame_name(const Frame& frame);

}  // namespace heapsnap
