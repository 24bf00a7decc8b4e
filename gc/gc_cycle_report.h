#pragma once
// Reference cycles among the objects a collection found unreachable, in the snapshot model's format
// (heapsnap::Cycle, as the conservative collector reports them), and grouped by shape for printing
// "100 cycles of 2 objects: Node ↔ Node".
//
// A cycle is a strongly connected component of the unreachable objects' reference graph with two or
// more members, or one member that refers to itself. Objects that are unreachable only because a cycle
// holds them (a tail hanging off a ring) are in no cycle.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gc/gc_object.h"
#include "snapshot/snapshot.h"

namespace heapsnap::gc {

// CycleEdge::offset when the reference is not held inside the object (a std::vector's buffer) or the
// traverse() did not say where it is.
inline constexpr std::uint64_t kUnknownOffset = kUnknownEdgeOffset;  // one value for both collectors and the file format

// Gives a member's allocation site as an index into a traceback table the caller keeps (for instance
// by interning heapsnap::get_object_traceback(address_of(object)) into a Snapshot's tracebacks).
using TracebackHook = std::function<TracebackIndex(const Object&)>;

struct GcCycle {
  Cycle cycle;                     // members sorted by (type, traceback, address); edges sorted; reachable = false
  std::vector<std::string> types;  // types[i]: type_name() of cycle.members[i]
};

// Cycles alike in member types, member tracebacks and number of edges.
struct CycleShape {
  std::vector<std::string> types;          // member types, in the cycles' member order
  std::vector<TracebackIndex> tracebacks;  // member tracebacks, same order
  std::size_t edges = 0;                   // edges per cycle
  std::size_t count = 0;                   // cycles of this shape
  std::uint64_t bytes = 0;                 // summed over those cycles
};

// Shapes by count, most frequent first (ties: more members first, then by types).
std::vector<CycleShape> group_by_shape(const std::vector<GcCycle>& cycles);

// "3 cycles of 2 objects: Node ↔ Edge", "1 cycle of 1 object: Node ↺" (a self-reference).
std::string describe(const CycleShape& shape);

namespace detail {

class GcList;

// The cycles among the objects of `unreachable` (all flagged kUnreachable), read while they are alive.
// Uses the objects' gc_refs as scratch (move_unreachable left them at 0 and nothing reads them before
// the next deduce_unreachable resets them).
std::vector<GcCycle> find_cycles(GcList& unreachable, const TracebackHook& traceback_of);

}  // namespace detail
}  // namespace heapsnap::gc
