#pragma once
// A snapshot's live memory as a pprof profile (perftools.profiles.Profile, profile.proto), gzip-compressed
// as Go's heap profiles are, so that `go tool pprof`, pprof's web UI and the pprof libraries read it.
//
// Like the in-use half of a Go heap profile: sample types inuse_objects/count and inuse_space/bytes
// (the default), one sample per distinct allocation stack, location ids leaf first. With leak analysis
// each sample has a label "reachability" = reachable, direct, indirect or cycle (the snapshot file's
// words), so that `pprof -tagfocus=reachability=direct` shows the direct leaks. One location per
// distinct frame (filename, lineno, function) with one line; one function per (function, filename).
// There are no mappings: every location is already symbolized. A sampled snapshot has period_type
// space/bytes and period = its sampling rate; its values are already scaled estimates.

#include <string>

#include "reporters/reporter.h"
#include "snapshot/snapshot.h"

namespace heapsnap {

class PprofExporter final : public Reporter {
 public:
  explicit PprofExporter(const Snapshot& snapshot) : snapshot_(snapshot) {}
  void render(std::ostream& out) const override;  // gzip-compressed

 private:
  const Snapshot& snapshot_;
};

// The uncompressed protobuf encoding of the profile.
std::string encode_pprof(const Snapshot& snapshot);

}  // namespace heapsnap
