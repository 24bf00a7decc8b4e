#include "gc/gc_cycle_report.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "collector/scc.h"
#include "gc/gc_list.h"

namespace heapsnap::gc {
namespace {

using collector::SparseGraph;
using collector::strongly_connected_components;

struct Reference {
  std::uint32_t to;             // node index
  std::uint64_t offset;         // of the field inside the referrer, or kUnknownOffset
};

// Unreachable objects as nodes 0..n-1 (the index parked in gc_refs) and their references among them.
struct UnreachableGraph {
  std::vector<Object*> nodes;
  std::vector<std::vector<Reference>> references;  // per node
};

class EdgeCollector final : public Visitor {
 public:
  EdgeCollector(const Object& from, std::vector<Reference>& out)
      : begin_(static_cast<const std::byte*>(address_of(from))),
        end_(begin_ + detail::header_of(from).gc_size),
        out_(out) {}

 private:
  void visit(Object& referent, const void* field) override {
    const detail::GcHeader& target = detail::header_of(referent);
    if ((target.gc_flags & detail::kUnreachable) == 0) return;
    const auto* at = static_cast<const std::byte*>(field);
    const std::uint64_t offset =
        at != nullptr && at >= begin_ && at < end_ ? static_cast<std::uint64_t>(at - begin_) : kUnknownOffset;
    out_.push_back({static_cast<std::uint32_t>(target.gc_refs), offset});
  }
  const std::byte* begin_;
  const std::byte* end_;
  std::vector<Reference>& out_;
};

UnreachableGraph read_graph(detail::GcList& unreachable) {
  UnreachableGraph graph;
  unreachable.for_each([&](Object& object) {
    detail::header_of(object).gc_refs = static_cast<std::intptr_t>(graph.nodes.size());
    graph.nodes.push_back(&object);
  });
  graph.references.resize(graph.nodes.size());
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    EdgeCollector edges(*graph.nodes[i], graph.references[i]);
    graph.nodes[i]->traverse(edges);
  }
  return graph;
}

SparseGraph to_sparse(const UnreachableGraph& graph) {
  SparseGraph sparse;
  sparse.offsets.reserve(graph.nodes.size() + 1);
  for (const std::vector<Reference>& references : graph.references) {
    for (const Reference& reference : references) sparse.targets.push_back(reference.to);
    sparse.offsets.push_back(static_cast<std::uint32_t>(sparse.targets.size()));
  }
  return sparse;
}

GcCycle make_cycle(const UnreachableGraph& graph, std::span<const std::uint32_t> component,
                   const TracebackHook& traceback_of) {
  struct Member {
    std::uint32_t node;
    std::string type;
    CycleMember member;
  };
  std::vector<Member> members;
  members.reserve(component.size());
  for (std::uint32_t node : component) {
    const Object& object = *graph.nodes[node];
    members.push_back({node, type_name(object),
                       {reinterpret_cast<std::uintptr_t>(address_of(object)), detail::header_of(object).gc_size,
                        traceback_of ? traceback_of(object) : TracebackIndex{0}}});
  }
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return std::tie(a.type, a.member.traceback, a.member.address) < std::tie(b.type, b.member.traceback, b.member.address);
  });

  std::map<std::uint32_t, std::uint32_t> position;  // node -> index in members
  for (std::uint32_t i = 0; i < members.size(); ++i) position.emplace(members[i].node, i);

  GcCycle result;
  for (const Member& member : members) {
    result.types.push_back(member.type);
    result.cycle.members.push_back(member.member);
    result.cycle.bytes += member.member.size;
    for (const Reference& reference : graph.references[member.node]) {
      const auto to = position.find(reference.to);
      if (to != position.end())
        result.cycle.edges.push_back({position.at(member.node), to->second, reference.offset});
    }
  }
  std::sort(result.cycle.edges.begin(), result.cycle.edges.end(), [](const CycleEdge& a, const CycleEdge& b) {
    return std::tie(a.from, a.to, a.offset) < std::tie(b.from, b.to, b.offset);
  });
  return result;
}

}  // namespace

namespace detail {

std::vector<GcCycle> find_cycles(GcList& unreachable, const TracebackHook& traceback_of) {
  const UnreachableGraph graph = read_graph(unreachable);
  std::vector<GcCycle> cycles;
  // Only the components that are cycles: two or more objects, or one that refers to itself.
  for (const std::span<const std::uint32_t> component : strongly_connected_components(to_sparse(graph), collector::SingleNodes::OnlyLooped))
    cycles.push_back(make_cycle(graph, component, traceback_of));
  for (Object* object : graph.nodes) header_of(*object).gc_refs = 0;
  return cycles;
}

}  // namespace detail

std::vector<CycleShape> group_by_shape(const std::vector<GcCycle>& cycles) {
  using Key = std::tuple<std::vector<std::string>, std::vector<TracebackIndex>, std::size_t>;
  std::map<Key, CycleShape> shapes;
  for (const GcCycle& cycle : cycles) {
    std::vector<TracebackIndex> tracebacks;
    for (const CycleMember& member : cycle.cycle.members) tracebacks.push_back(member.traceback);
    Key key{cycle.types, tracebacks, cycle.cycle.edges.size()};
    CycleShape& shape = shapes[key];
    if (shape.count == 0) {
      shape.types = cycle.types;
      shape.tracebacks = std::move(tracebacks);
      shape.edges = cycle.cycle.edges.size();
    }
    ++shape.count;
    shape.bytes += cycle.cycle.bytes;
  }
  std::vector<CycleShape> result;
  for (auto& [key, shape] : shapes) result.push_back(std::move(shape));
  std::stable_sort(result.begin(), result.end(), [](const CycleShape& a, const CycleShape& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.types.size() > b.types.size();
  });
  return result;
}

std::string describe(const CycleShape& shape) {
  const std::size_t members = shape.types.size();
  std::string text = std::to_string(shape.count) + (shape.count == 1 ? " cycle of " : " cycles of ") +
                     std::to_string(members) + (members == 1 ? " object: " : " objects: ");
  for (std::size_t i = 0; i < members; ++i) text += (i == 0 ? "" : " ↔ ") + shape.types[i];
  if (members == 1) text += " ↺";
  return text;
}

}  // namespace heapsnap::gc
