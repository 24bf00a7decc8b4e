#pragma once
// A snapshot's live memory as a speedscope profile (https://www.speedscope.app/file-format-schema.json):
// one "sampled" profile whose samples are the allocation stacks, root first, weighted by their live
// bytes (unit "bytes"). Frames are {name, file, line}, one per distinct frame (filename, lineno,
// function), so two lines of one function stay apart as they do in `heapsnap stats --by traceback`.

#include <string>

#include "reporters/reporter.h"
#include "snapshot/snapshot.h"

namespace heapsnap {

class SpeedscopeExporter final : public Reporter {
 public:
  // `name` titles the profile in speedscope (the snapshot's file name, say).
  SpeedscopeExporter(const Snapshot& snapshot, std::string name);
  void render(std::ostream& out) const override;

 private:
  const Snapshot& snapshot_;
  std::string name_;
};

}  // namespace heapsnap
