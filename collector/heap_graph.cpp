#include "collector/heap_graph.h"

#include <algorithm>

namespace heapsnap::collector {

HeapGraph HeapGraph::of_live_heap() {
  HeapGraph graph;
  alloc::walk_heap(
      [](void* context, const alloc::BlockInfo& block) {
        if (block.site == alloc::SiteTag::Internal) return;
        auto& graph = *static_cast<HeapGraph*>(context);
        const auto start = reinterpret_cast<std::uintptr_t>(block.address);
        graph.low_ = graph.nodes_.empty() ? start : std::min(graph.low_, start);
        graph.high_ = std::max(graph.high_, start + block.usable);
        graph.nodes_.push_back({static_cast<const std::byte*>(block.address), block.requested, block.site, Reachability::Direct});
      },
      &graph);
  std::sort(graph.nodes_.begin(), graph.nodes_.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
  return graph;
}

std::optional<std::uint32_t> HeapGraph::node_in_heap_range(std::uintptr_t word) const {
  const alloc::BlockInfo block = alloc::find_block(reinterpret_cast<const void*>(word));  // O(1), safe on any value
  if (block.site == alloc::SiteTag::Free || block.site == alloc::SiteTag::Internal) return std::nullopt;
  const auto it = std::lower_bound(nodes_.begin(), nodes_.end(), static_cast<const std::byte*>(block.address),
                                   [](const HeapNode& n, const std::byte* a) { return n.address < a; });
  if (it == nodes_.end() || it->address != block.address) return std::nullopt;  // allocated after the walk
  return static_cast<std::uint32_t>(it - nodes_.begin());
}

}  // namespace heapsnap::collector
