#include "collector/scc.h"

#include <algorithm>
#include <limits>

namespace heapsnap::collector {

Components strongly_connected_components(const SparseGraph& graph, SingleNodes single) {
  return strongly_connected_components(graph.offsets, graph.targets, single);
}

Components strongly_connected_components(std::span<const std::uint32_t> offsets, std::span<const std::uint32_t> targets,
                                         SingleNodes single) {
  constexpr std::uint32_t kUnvisited = std::numeric_limits<std::uint32_t>::max();
  const auto n = static_cast<std::uint32_t>(offsets.size() - 1);
  std::vector<std::uint32_t> index(n, kUnvisited);  // discovery order
  std::vector<std::uint32_t> low(n, 0);             // smallest index reachable through the DFS subtree
  std::vector<bool> on_stack(n, false);
  std::vector<std::uint32_t> stack;                 // Tarjan's stack of nodes of open components
  struct Frame {
    std::uint32_t node;
    std::uint32_t next_edge;  // into graph.targets
  };
  std::vector<Frame> frames;  // the DFS path: what recursion would keep on the call stack
  Components components;
  if (single == SingleNodes::Keep) {
    components.nodes_.reserve(n);
    components.starts_.reserve(std::size_t{n} + 1);
  }
  std::uint32_t counter = 0;

  auto discover = [&](std::uint32_t v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    frames.push_back({v, offsets[v]});
  };

  for (std::uint32_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    discover(root);
    while (!frames.empty()) {
      const std::uint32_t v = frames.back().node;
      if (frames.back().next_edge < offsets[v + 1]) {
        const std::uint32_t w = targets[frames.back().next_edge++];
        if (index[w] == kUnvisited)
          discover(w);  // "recurse"; v's low is updated when w's frame returns
        else if (on_stack[w])
          low[v] = std::min(low[v], index[w]);
        continue;
      }
      frames.pop_back();  // "return" from v
      if (!frames.empty()) low[frames.back().node] = std::min(low[frames.back().node], low[v]);
      if (low[v] != index[v]) continue;
      if (single == SingleNodes::OnlyLooped && stack.back() == v) {  // a component of v alone
        const auto first = targets.begin() + offsets[v];
        const auto last = targets.begin() + offsets[v + 1];
        if (std::find(first, last, v) == last) {
          stack.pop_back();
          on_stack[v] = false;
          continue;
        }
      }
      std::uint32_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        components.nodes_.push_back(w);
      } while (w != v);
      components.starts_.push_back(static_cast<std::uint32_t>(components.nodes_.size()));
    }
  }
  return components;
}

}  // namespace heapsnap::collector
