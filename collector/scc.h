#pragma once
// Strongly connected components of a directed graph, by Tarjan's algorithm run with an explicit stack:
// no recursion, so a 100,000-node cycle or chain costs heap, not call stack.

#include <cstdint>
#include <vector>

namespace heapsnap::collector {

// Compressed sparse rows: the successors of node v are targets[offsets[v] .. offsets[v + 1]).
struct SparseGraph {
  std::vector<std::uint32_t> offsets{0};  // nodes + 1 entries, non-decreasing, offsets[0] == 0
  std::vector<std::uint32_t> targets;    // node indices

  std::uint32_t nodes() const { return static_cast<std::uint32_t>(offsets.size() - 1); }
};

// Every node in exactly one component; components come in reverse topological order (a component
// before any that reach it); within one, nodes in the order Tarjan pops them.
std::vector<std::vector<std::uint32_t>> strongly_connected_components(const SparseGraph& graph);

}  // namespace heapsnap::collector
