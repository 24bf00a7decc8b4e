#pragma once
// Reference cycles: the strongly connected components of the pointer graph (scc.h: iterative, so a
// 100k-long chain or ring costs heap memory, never native stack) with two or more members, or one
// member that points to itself.

#include <cstdint>
#include <functional>
#include <vector>

#include "collector/heap_graph.h"

namespace heapsnap::collector {

struct FoundCycle {
  std::vector<std::uint32_t> members;  // node indices
  std::vector<CycleEdge> edges;        // from/to index into `members`; offset of the pointer in `from`
  bool reachable = false;
};

// The edges among a subset of the graph's nodes, in compressed rows: node v's edges go to
// target[first[v] .. first[v + 1]); a node outside the subset has none. Built once and used by every
// pass over the subset: each edge is a lookup of a pointer word in the heap, the analysis's main cost
// on a big heap. (Where in its block each pointer sits is found again for cycle members only.)
struct EdgeList {
  std::vector<std::uint32_t> first;   // node -> index of its first edge (nodes + 1 entries)
  std::vector<std::uint32_t> target;  // edge -> node
};
EdgeList edges_among(const HeapGraph& graph, const std::function<bool(std::uint32_t)>& included);

// The cycles among the nodes of `edges` (the subset of `graph` it was built for).
std::vector<FoundCycle> find_cycles(const HeapGraph& graph, const EdgeList& edges);

}  // namespace heapsnap::collector
