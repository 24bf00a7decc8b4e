#include "collector/cycles.h"

#include <algorithm>
#include <limits>

namespace heapsnap::collector {
namespace {

constexpr std::uint32_t kUnvisited = std::numeric_limits<std::uint32_t>::max();

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
  const auto n = static_cast<std::uint32_t>(graph.nodes().size());
  std::vector<std::uint32_t> index(n, kUnvisited);
  std::vector<std::uint32_t> low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::uint32_t> stack;
  struct Frame {
    std::uint32_t node;
    std::uint32_t next_edge;
  };
  std::vector<Frame> calls;
  std::vector<FoundCycle> cycles;
  std::uint32_t next_index = 0;

  for (std::uint32_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited || !included(root)) continue;
    calls.push_back({root, adjacency.first[root]});
    index[root] = low[root] = next_index++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!calls.empty()) {
      Frame& frame = calls.back();
      const std::uint32_t node = frame.node;
      if (frame.next_edge < adjacency.first[node + 1]) {
        const std::uint32_t to = adjacency.target[frame.next_edge++];
        if (index[to] == kUnvisited) {
          index[to] = low[to] = next_index++;
          stack.push_back(to);
          on_stack[to] = true;
          calls.push_back({to, adjacency.first[to]});  // `frame` is invalid from here on
        } else if (on_stack[to]) {
          low[node] = std::min(low[node], index[to]);
        }
        continue;
      }
      calls.pop_back();
      if (!calls.empty()) low[calls.back().node] = std::min(low[calls.back().node], low[node]);
      if (low[node] != index[node]) continue;
      std::vector<std::uint32_t> component;  // node is the root of a component: pop it
      std::uint32_t member = 0;
      do {
        member = stack.back();
        stack.pop_back();
        on_stack[member] = false;
        component.push_back(member);
      } while (member != node);
      bool self_loop = false;
      if (component.size() == 1)
        for (std::uint32_t e = adjacency.first[node]; e < adjacency.first[node + 1]; ++e) self_loop |= adjacency.target[e] == node;
      if (component.size() >= 2 || self_loop) cycles.push_back(describe(component, adjacency));
    }
  }
  return cycles;
}

}  // namespace heapsnap::collector
