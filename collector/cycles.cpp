#include "collector/cycles.h"

#include "collector/scc.h"

#include <algorithm>

namespace heapsnap::collector {
namespace {

// A cycle's members, sorted, and its edges with the offset of each pointer in its block: the edge list
// keeps no offsets, so the members' words are read again (cycles are few and small next to a heap).
FoundCycle describe(const HeapGraph& graph, std::span<const std::uint32_t> component) {
  FoundCycle cycle;
  cycle.members.assign(component.begin(), component.end());
  std::sort(cycle.members.begin(), cycle.members.end());
  for (std::uint32_t from = 0; from < cycle.members.size(); ++from) {
    graph.for_each_edge(cycle.members[from], [&](std::size_t offset, std::uint32_t target) {
      const auto it = std::lower_bound(cycle.members.begin(), cycle.members.end(), target);
      if (it != cycle.members.end() && *it == target)
        cycle.edges.push_back({from, static_cast<std::uint32_t>(it - cycle.members.begin()), offset});
    });
  }
  return cycle;
}

}  // namespace

EdgeList edges_among(const HeapGraph& graph, const std::function<bool(std::uint32_t)>& included) {
  const auto n = static_cast<std::uint32_t>(graph.nodes().size());
  EdgeList edges;
  edges.first.assign(std::size_t{n} + 1, 0);
  for (std::uint32_t node = 0; node < n; ++node) {
    edges.first[node] = static_cast<std::uint32_t>(edges.target.size());
    if (!included(node)) continue;
    graph.for_each_edge(node, [&](std::size_t, std::uint32_t to) {
      if (!included(to)) return;
      edges.target.push_back(to);
    });
  }
  edges.first[n] = static_cast<std::uint32_t>(edges.target.size());
  return edges;
}

std::vector<FoundCycle> find_cycles(const HeapGraph& graph, const EdgeList& edges) {
  std::vector<FoundCycle> cycles;
  for (const std::span<const std::uint32_t> component : strongly_connected_components(edges.first, edges.target, SingleNodes::OnlyLooped))
    cycles.push_back(describe(graph, component));
  return cycles;
}

}  // namespace heapsnap::collector
