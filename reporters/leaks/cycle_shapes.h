#pragma once
// Reference cycles grouped by shape, so that a report says "100 cycles of 2 blocks" once instead of
// listing 200 blocks (docs/leak-report.md#cycles).
//
// Two cycles have the same shape when their members, put in a canonical order, have the same
// allocation sites (whole stacks, compared like compare_tracebacks) and the same edges between them
// (from, to, offset). The canonical order does not depend on addresses or on the order the collector
// listed the members in:
//  - a ring (every member points to exactly one other member, and following them visits all): the
//    rotation whose sites, then edges, are smallest. Self-cycles and 2-rings are rings;
//  - any other cycle: members sorted by site; members of one site are permuted to the order whose
//    edges are smallest, when there are at most kMaxPermutations such orders;
//  - beyond that, members are sorted by site, pointers out, pointers in and address, and the cycle's
//    wiring is compared between sites only (which site points to which, at what offset, how often).
//    Such a shape has `same_wiring` false when its cycles differ in their member-to-member edges.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap {

// How many orders of a non-ring cycle are tried before its wiring is compared between sites only.
inline constexpr std::size_t kMaxPermutations = 120;

enum class CycleSelection { Unreachable, Reachable };

struct CycleShape {
  std::vector<Traceback> sites;   // allocation stack of each member, in the canonical order
  std::vector<CycleEdge> edges;   // the first cycle's edges between canonical positions, sorted
  bool ring = false;              // member k points to member k + 1 only (the last to the first)
  bool same_wiring = true;        // every cycle of the shape has exactly `edges`
  std::vector<Cycle> cycles;      // members in canonical order, edges renumbered and sorted; sorted by
                                  // the first member's address
  std::uint64_t bytes = 0;        // summed over `cycles`
  bool by_site = false;           // beyond kMaxPermutations: `wiring` is between sites
  std::vector<CycleEdge> wiring;  // what shapes are compared by: `edges`, or with by_site the edges
                                  // between sites (from and to: the first canonical position of a site)

  std::uint64_t count() const { return cycles.size(); }
  std::uint64_t blocks() const { return cycles.size() * sites.size(); }
};

// Cycles, blocks and bytes summed over shapes.
struct CycleTotals {
  std::uint64_t cycles = 0;
  std::uint64_t blocks = 0;
  std::uint64_t bytes = 0;

  void add(const CycleShape& shape) {
    cycles += shape.count();
    blocks += shape.blocks();
    bytes += shape.bytes;
  }
};

// The selected cycles of `snapshot` by shape, biggest first: bytes, then count, then members
// (descending), then compare_shapes. Throws std::out_of_range when a member names a traceback the
// snapshot does not have, or an edge a member its cycle does not have.
std::vector<CycleShape> cycle_shapes(const Snapshot& snapshot, CycleSelection selection);

// Orders shapes by their identity (sites, then wiring); equal means the same shape, in any snapshot.
std::strong_ordering compare_shapes(const CycleShape& a, const CycleShape& b);

}  // namespace heapsnap
