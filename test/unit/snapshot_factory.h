#pragma once
// Synthetic snapshots for the tests, built in code like CPython's test_tracemalloc create_snapshots().

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "profiler/snapshot.h"

namespace heapsnap::test {

Frame frame(std::string filename, std::uint32_t lineno, std::string function = {});

// A stack given most recent frame first, as heapsnap stores it.
Traceback stack(std::initializer_list<Frame> frames, std::uint32_t total_nframe = 0);

// Builds a Snapshot trace by trace, interning tracebacks by identity.
class SnapshotBuilder {
 public:
  SnapshotBuilder& traceback_limit(std::uint32_t limit);
  SnapshotBuilder& leak_analysis(bool analysed);
  SnapshotBuilder& add(DomainId domain, std::uint64_t size, const Traceback& traceback, std::uint64_t count = 1,
                       Reachability reachability = Reachability::NotAnalyzed);
  Snapshot build() const { return snapshot_; }

 private:
  Snapshot snapshot_;
};

// CPython's create_snapshots(): (snapshot, snapshot2) with the same traces, one Trace per block.
std::pair<Snapshot, Snapshot> create_snapshots();

// A snapshot using every field, with native frames, for round trips.
Snapshot full_snapshot();

}  // namespace heapsnap::test
