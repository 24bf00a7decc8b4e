#pragma once
// Strongly connected components of a directed graph, by Tarjan's algorithm run with an explicit stack:
// no recursion, so a 100,000-node cycle or chain costs heap, not call stack.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace heapsnap::collector {

// Compressed sparse rows: the successors of node v are targets[offsets[v] .. offsets[v + 1]).
struct SparseGraph {
  std::vector<std::uint32_t> offsets{0};  // nodes + 1 entries, non-decreasing, offsets[0] == 0
  std::vector<std::uint32_t> targets;    // node indices

  std::uint32_t nodes() const { return static_cast<std::uint32_t>(offsets.size() - 1); }
};

// Which one-node components to keep: all of them, or only those whose node points to itself (the
// ones that are cycles; a leak analysis of millions of blocks has millions of the others).
enum class SingleNodes { Keep, OnlyLooped };

// The components, stored flat: a leak analysis of millions of blocks has millions of one-node
// components, and a vector each cost more memory than the rest of the analysis.
class Components {
 public:
  std::size_t size() const { return starts_.size() - 1; }
  std::span<const std::uint32_t> operator[](std::size_t i) const {
    return {nodes_.data() + starts_[i], starts_[i + 1] - starts_[i]};
  }

  class Iterator {
   public:
    Iterator(const Components* components, std::size_t at) : components_(components), at_(at) {}
    std::span<const std::uint32_t> operator*() const { return (*components_)[at_]; }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }

   private:
    const Components* components_;
    std::size_t at_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, size()}; }

 private:
  friend Components strongly_connected_components(std::span<const std::uint32_t> offsets, std::span<const std::uint32_t> targets,
                                                  SingleNodes single);
  std::vector<std::uint32_t> nodes_;       // component by component
  std::vector<std::uint32_t> starts_{0};   // component i is nodes_[starts_[i] .. starts_[i + 1])
};

// Every node in exactly one component (with SingleNodes::OnlyLooped, one-node components without a
// self-loop are left out); components come in reverse topological order (a component before any that
// reach it); within one, nodes in the order Tarjan pops them.
Components strongly_connected_components(const SparseGraph& graph, SingleNodes single = SingleNodes::Keep);
// The same over compressed rows held elsewhere (offsets: nodes + 1 entries).
Components strongly_connected_components(std::span<const std::uint32_t> offsets, std::span<const std::uint32_t> targets,
                                         SingleNodes single = SingleNodes::Keep);

}  // namespace heapsnap::collector
