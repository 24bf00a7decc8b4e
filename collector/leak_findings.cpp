#include "collector/leak_findings.h"

#include <algorithm>
#include <memory>

namespace heapsnap::collector {

LeakFindings to_findings(LeakAnalysis analysis) {
  auto graph = std::make_shared<HeapGraph>(std::move(analysis.graph));
  LeakFindings findings;
  findings.thread_stop = ThreadStop{analysis.stop_method, std::move(analysis.stop_fallback_reason),
                                    analysis.threads_scanned, analysis.threads_unresponsive};
  for (const FoundCycle& cycle : analysis.cycles) {
    BlockCycle block_cycle;
    block_cycle.reachable = cycle.reachable;
    block_cycle.edges = cycle.edges;
    for (std::uint32_t member : cycle.members) {
      const HeapNode& node = graph->nodes()[member];
      const std::size_t size = node.size();
      block_cycle.members.push_back({const_cast<std::byte*>(node.address), size, size, node.site});
    }
    findings.cycles.push_back(std::move(block_cycle));
  }
  // The heap walk that asks goes through a page's blocks in address order: the node after the last
  // one found is usually the next block's, and the binary search is the fallback.
  findings.classify = [graph, next = std::size_t{0}](const alloc::BlockInfo& block) mutable {
    const auto& nodes = graph->nodes();
    const auto* address = static_cast<const std::byte*>(block.address);
    std::size_t at = next;
    if (at >= nodes.size() || nodes[at].address != address) {
      at = static_cast<std::size_t>(std::lower_bound(nodes.begin(), nodes.end(), address,
                                                     [](const HeapNode& n, const std::byte* a) { return n.address < a; }) -
                                    nodes.begin());
      if (at == nodes.size() || nodes[at].address != address) return Reachability::NotAnalyzed;
    }
    next = at + 1;
    return graph->state(static_cast<std::uint32_t>(at));
  };
  return findings;
}

}  // namespace heapsnap::collector
