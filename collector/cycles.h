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

// The cycles among the nodes for which `included` is true, following only edges between them.
std::vector<FoundCycle> find_cycles(const HeapGraph& graph, const std::function<bool(std::uint32_t)>& included);

}  // namespace heapsnap::collector
