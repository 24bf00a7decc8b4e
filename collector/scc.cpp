#include "collector/scc.h"

#include <algorithm>
#include <limits>

namespace heapsnap::collector {

std::vector<std::vector<std::uint32_t>> strongly_connected_components(const SparseGraph& graph) {
  constexpr std::uint32_t kUnvisited = std::numeric_limits<std::uint32_t>::max();
  const std::uint32_t n = graph.nodes();
  std::vector<std::uint32_t> index(n, kUnvisited);  // discovery order
  std::vector<std::uint32_t> low(n, 0);             // smallest index reachable through the DFS subtree
  std::vector<bool> on_stack(n, false);
  std::vector<std::uint32_t> stack;                 // Tarjan's stack of nodes of open components
  struct Frame {
    std::uint32_t node;
    std::uint32_t next_edge;  // into graph.targets
  };
  std::vector<Frame> frames;  // the DFS path: what recursion would keep on the call stack
  std::vector<std::vector<std::uint32_t>> components;
  std::uint32_t counter = 0;

  auto discover = [&](std::uint32_t v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    frames.push_back({v, graph.offsets[v]});
  };

  for (std::uint32_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    discover(root);
    while (!frames.empty()) {
      const std::uint32_t v = frames.back().node;
      if (frames.back().next_edge < graph.offsets[v + 1]) {
        const std::uint32_t w = graph.targets[frames.back().next_edge++];
        if (index[w] == kUnvisited)
          discover(w);  // "recurse"; v's low is updated when w's frame returns
        else if (on_stack[w])
          low[v] = std::min(low[v], index[w]);
        continue;
      }
      frames.pop_back();  // "return" from v
      if (!frames.empty()) low[frames.back().node] = std::min(low[frames.back().node], low[v]);
      if (low[v] != index[v]) continue;
      std::vector<std::uint32_t>& component = components.emplace_back();
      std::uint32_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component.push_back(w);
      } while (w != v);
    }
  }
  return components;
}

}  // namespace heapsnap::collector
