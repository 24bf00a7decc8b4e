#pragma once
// The live blocks of the arena as the nodes of a pointer graph: conservative, so any aligned word
// whose value is an address inside a live block is an edge to that block.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "allocator/allocator.h"
#include "snapshot/snapshot.h"

namespace heapsnap::collector {

// 16 bytes: a heap of millions of blocks has as many nodes, and the graph is most of the analysis's
// memory. The state of each node is kept apart (HeapGraph::state).
struct HeapNode {
  static constexpr std::uint32_t kLargeSize = UINT32_MAX;  // the size is asked of the allocator

  const std::byte* address;
  std::uint32_t small_size;  // requested bytes, below kLargeSize
  alloc::SiteTag site;

  HeapNode(const std::byte* block, std::size_t requested, alloc::SiteTag tag)
      : address(block), small_size(requested < kLargeSize ? static_cast<std::uint32_t>(requested) : kLargeSize), site(tag) {}
  // Requested bytes: words past them are stale and would invent edges.
  std::size_t size() const { return small_size != kLargeSize ? small_size : alloc::find_block(address).requested; }
};
static_assert(sizeof(HeapNode) == 16);

class HeapGraph {
 public:
  // Every live block that is not heapsnap's own (SiteTag::Internal blocks are neither nodes nor scanned).
  static HeapGraph of_live_heap();

  const std::vector<HeapNode>& nodes() const { return nodes_; }
  Reachability& state(std::uint32_t node) { return states_[node]; }
  Reachability state(std::uint32_t node) const { return states_[node]; }

  // The node holding the address `word` (interior pointers included), if any. The range check is
  // inline: most words scanned are not heap addresses.
  std::optional<std::uint32_t> node_at(std::uintptr_t word) const {
    if (word < low_ || word >= high_) return std::nullopt;
    return node_in_heap_range(word);
  }

  // Calls visit(offset, target) for each aligned word of `node` that points into a node.
  template <typename Visit>
  void for_each_edge(std::uint32_t node, Visit&& visit) const {
    const HeapNode& n = nodes_[node];
    const auto base = reinterpret_cast<std::uintptr_t>(n.address);
    const std::size_t size = n.size();
    for (std::size_t offset = 0; offset + sizeof(std::uintptr_t) <= size; offset += sizeof(std::uintptr_t)) {
      if (const auto target = node_at(*reinterpret_cast<const std::uintptr_t*>(base + offset))) visit(offset, *target);
    }
  }

 private:
  std::optional<std::uint32_t> node_in_heap_range(std::uintptr_t word) const;

  std::vector<HeapNode> nodes_;  // sorted by address
  std::vector<Reachability> states_;  // by node; Direct until the analysis says otherwise
  // Every node lies in [low_, high_) (their usable bytes, which interior pointers may reach): most
  // root words are not heap addresses, and this rejects them without a segment lookup.
  std::uintptr_t low_ = 0;
  std::uintptr_t high_ = 0;
};

// Calls visit(word) for each aligned word in [begin, begin + bytes).
template <typename Visit>
void for_each_word(const void* begin, std::size_t bytes, Visit&& visit) {
  auto at = (reinterpret_cast<std::uintptr_t>(begin) + 7) & ~std::uintptr_t{7};
  const auto end = reinterpret_cast<std::uintptr_t>(begin) + bytes;
  for (; at + sizeof(std::uintptr_t) <= end; at += sizeof(std::uintptr_t)) visit(*reinterpret_cast<const std::uintptr_t*>(at));
}

}  // namespace heapsnap::collector
