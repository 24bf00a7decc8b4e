#pragma once
// How reference cycles appear in reports (docs/leak-report.md#cycles): one headline per shape,
//   100 cycles of 2 blocks (96 B each): block at src/node.cpp:31 (make_node) ↔ block at src/node.cpp:31 (make_node)
//   10 cycles of 3 blocks (144 B each): block at A → block at B → block at C → back to the first
//   7 self-cycles (48 B each): block at src/node.cpp:31 (make_node) → itself
// the members beneath it with their pointers and stacks, and the JSON objects of shapes and cycles.

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "reporters/leaks/cycle_shapes.h"

namespace heapsnap {

// Shapes with more members than this are described by site in the text ("1000 blocks at ...")
// rather than member by member.
inline constexpr std::size_t kMembersShownOneByOne = 8;

// The headline: how many cycles, of how many blocks, how big, and the members by their allocating frame.
std::string describe_shape(const CycleShape& shape);

// The members, each on a line "<indent>block 1 (48 B) points to block 2 (offsets 16, 24)" followed by
// its stack; for large shapes one entry per site. Says so when the shape's cycles differ in wiring.
void write_shape_members(std::ostream& out, const CycleShape& shape, std::string_view indent);

// [{"from", "to", "offset"}]: member indices, offset null when unknown.
nlohmann::ordered_json edges_to_json(const std::vector<CycleEdge>& edges);

// {"count", "bytes", "blocks", "members": [{"traceback": [...]}], "edges", "same_wiring"}.
nlohmann::ordered_json shape_to_json(const CycleShape& shape);

// One cycle of `shape` (its members in the shape's order): {"members": [{"address", "size"}], "edges",
// "bytes"}, each member also with its "traceback" when `with_tracebacks`.
nlohmann::ordered_json cycle_to_json(const Cycle& cycle, const CycleShape& shape, bool with_tracebacks);

}  // namespace heapsnap
