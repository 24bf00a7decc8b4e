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
      block_cycle.members.push_back({const_cast<std::byte*>(node.address), node.size, node.size, node.site});
    }
    findings.cycles.push_back(std::move(block_cycle));
  }
  findings.classify = [graph](const alloc::BlockInfo& block) {
    const auto& nodes = graph->nodes();
    const auto it = std::lower_bound(nodes.begin(), nodes.end(), static_cast<const std::byte*>(block.address),
                                     [](const HeapNode& n, const std::byte* a) { return n.address < a; });
    return it != nodes.end() && it->address == block.address ? it->state : Reachability::NotAnalyzed;
  };
  return findings;
}

}  // namespace heapsnap::collector
