#include "collector/cycles.h"

#include "collector/scc.h"

#include <algorithm>

namespace heapsnap::collector {
namespace {

struct Adjacency {  // compressed rows over the included nodes
  std::vector<std::uint32_t> first;   // node -> index of its first edge (size n + 1)
  std::vector<std::uint32_t> target;  // edge -> node
  std::vector<std::uint64_t> offset;  // edge -> byte offset in the source node
};

Adjacency edges_among(const HeapGraph& graph, const std::function<bool(std::uint32_t)>& included) {
  const auto n = static_cast<std::uint32_t>(graph.nodes().size());
  Adjacency adjacency;
  adjacency.first.assign(n + 1, 0);
  for (std::uint32_t node = 0; node < n; ++node) {
    adjacency.first[node] = static_cast<std::uint32_t>(adjacency.target.size());
    if (!included(node)) continue;
    graph.for_each_edge(node, [&](std::size_t offset, std::uint32_t to) {
      if (!included(to)) return;
      adjacency.target.push_back(to);
      adjacency.offset.push_back(offset);
    });
  }
  adjacency.first[n] = static_cast<std::uint32_t>(adjacency.target.size());
  return adjacency;
}

FoundCycle describe(const std::vector<std::uint32_t>& component, const Adjacency& adjacency) {
  FoundCycle cycle;
  cycle.members = component;
  std::sort(cycle.members.begin(), cycle.members.end());
  auto member_index = [&](std::uint32_t node) {
    return static_cast<std::uint32_t>(std::lower_bound(cycle.members.begin(), cycle.members.end(), node) - cycle.members.begin());
  };
  for (std::uint32_t from = 0; from < cycle.members.size(); ++from) {
    const std::uint32_t node = cycle.members[from];
    for (std::uint32_t e = adjacency.first[node]; e < adjacency.first[node + 1]; ++e) {
      const std::uint32_t to = member_index(adjacency.target[e]);
      if (to < cycle.members.size() && cycle.members[to] == adjacency.target[e]) cycle.edges.push_back({from, to, adjacency.offset[e]});
    }
  }
  return cycle;
}

}  // namespace

std::vector<FoundCycle> find_cycles(const HeapGraph& graph, const std::function<bool(std::uint32_t)>& included) {
  const Adjacency adjacency = edges_among(graph, included);
  SparseGraph sparse;
  sparse.offsets = adjacency.first;
  sparse.targets = adjacency.target;
  std::vector<FoundCycle> cycles;
  for (const std::vector<std::uint32_t>& component : strongly_connected_components(sparse)) {
    const std::uint32_t node = component.front();
    bool self_loop = false;
    if (component.size() == 1)
      for (std::uint32_t e = adjacency.first[node]; e < adjacency.first[node + 1]; ++e) self_loop |= adjacency.target[e] == node;
    if (component.size() >= 2 || self_loop) cycles.push_back(describe(component, adjacency));
  }
  return cycles;
}

}  // namespace heapsnap::collector
