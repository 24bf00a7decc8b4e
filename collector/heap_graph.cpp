#include "collector/heap_graph.h"

#include <algorithm>

#include "runtime/site_counters.h"

namespace heapsnap::collector {

HeapGraph HeapGraph::of_live_heap() {
  HeapGraph graph;
  // Sized up front: growing by doubling would hold the old and the new array at once, 1.5 times the
  // graph's memory at its peak, on a heap of millions of blocks.
  const std::int64_t expected = site_counters::live_blocks();
  if (expected > 0) graph.nodes_.reserve(static_cast<std::size_t>(expected) + static_cast<std::size_t>(expected) / 16 + 64);
  alloc::walk_heap(
      [](void* context, const alloc::BlockInfo& block) {
        if (block.site == alloc::SiteTag::Internal) return;
        auto& graph = *static_cast<HeapGraph*>(context);
        const auto start = reinterpret_cast<std::uintptr_t>(block.address);
        graph.low_ = graph.nodes_.empty() ? start : std::min(graph.low_, start);
        graph.high_ = std::max(graph.high_, start + block.usable);
        graph.nodes_.emplace_back(static_cast<const std::byte*>(block.address), block.requested, block.site);
      },
      &graph);
  std::sort(graph.nodes_.begin(), graph.nodes_.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
  graph.states_.assign(graph.nodes_.size(), Reachability::Direct);
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
