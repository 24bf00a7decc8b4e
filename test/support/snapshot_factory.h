#pragma once
// Synthetic snapshots for the tests, built in code like CPython's test_tracemalloc create_snapshots().

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "snapshot/snapshot.h"

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

// Leaked reference cycles as samples/cycles.cpp leaves them: make_ring() allocates the first node of a
// ring at kFirstNode, the others at kOtherNode (both in make_node), every node 48 bytes with two
// pointers (offsets 16 and 24) to the next, as a std::shared_ptr holds. Plus 2 direct leaks of 64 bytes
// at kPlainLeak and a reachable 4-ring (recorded, and its nodes traced as reachable).
extern const Traceback kFirstNode;  // src/node.cpp:31 (make_node) <- src/node.cpp:37 (make_ring)
extern const Traceback kOtherNode;  // src/node.cpp:31 (make_node) <- src/node.cpp:40 (make_ring)
extern const Traceback kPlainLeak;  // src/plain.cpp:9 (leak_plain)

struct CycleCounts {
  int pairs = 3;        // first <-> other
  int triangles = 1;    // first -> other -> other -> first
  int self_cycles = 2;  // first -> itself
};
Snapshot snapshot_with_cycles(const CycleCounts& counts = {});

// Appends to `snapshot.cycles` a ring of 48-byte nodes allocated at `sites` (which must be among its
// tracebacks), from address `address` on.
void add_ring(Snapshot& snapshot, std::uint64_t address, std::initializer_list<Traceback> sites, bool reachable = false);

}  // namespace heapsnap::test
