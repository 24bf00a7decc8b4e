// Cycle reports: the strongly connected components of what a collection found unreachable, in the
// snapshot model's Cycle format, and grouped by shape.

#include <algorithm>
#include <set>

#include "collector/scc.h"
#include "gc_test_support.h"

namespace cycletest {

using heapsnap::gc::Object;
using heapsnap::gc::Ref;
using heapsnap::gc::Visitor;

// A node with two reference fields inside the object and more in a vector (outside it).
class Node : public pymodel::PyObject {
 public:
  void traverse(Visitor& visit) const noexcept override {
    visit(next);
    visit(other);
    for (const Ref<Object>& r : more) visit(r);
  }
  void clear() noexcept override {
    next.reset();
    other.reset();
    std::vector<Ref<Object>> old;
    old.swap(more);
  }
  Ref<Object> next;
  Ref<Object> other;
  std::vector<Ref<Object>> more;
};
class Edge final : public Node {};

std::uint64_t offset_of(const Node& node, const Ref<Object>& field) {
  return static_cast<std::uint64_t>(reinterpret_cast<const char*>(&field) -
                                    static_cast<const char*>(heapsnap::gc::address_of(node)));
}

}  // namespace cycletest

namespace pymodel {
namespace {

using cycletest::Edge;
using cycletest::Node;
using heapsnap::TracebackIndex;
using heapsnap::gc::GcCycle;
using heapsnap::collector::SparseGraph;

std::set<std::set<std::uint32_t>> as_sets(const heapsnap::collector::Components& components) {
  std::set<std::set<std::uint32_t>> sets;
  for (const auto& c : components) sets.emplace(c.begin(), c.end());
  return sets;
}

SparseGraph graph_of(std::uint32_t nodes, const std::vector<std::pair<std::uint32_t, std::uint32_t>>& edges) {
  SparseGraph graph;
  for (std::uint32_t v = 0; v < nodes; ++v) {
    for (const auto& [from, to] : edges)
      if (from == v) graph.targets.push_back(to);
    graph.offsets.push_back(static_cast<std::uint32_t>(graph.targets.size()));
  }
  return graph;
}

TEST_CASE("strongly connected components of a small graph", "[gc][scc]") {
  const SparseGraph graph = graph_of(7, {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 4}, {4, 3}, {6, 6}});
  const auto components = heapsnap::collector::strongly_connected_components(graph);
  CHECK(as_sets(components) == std::set<std::set<std::uint32_t>>{{0, 1, 2}, {3, 4}, {5}, {6}});
  // Reverse topological order: {3, 4} is reached from {0, 1, 2}, so it comes first.
  const auto position = [&](std::uint32_t node) {
    for (std::size_t i = 0; i < components.size(); ++i)
      if (std::find(components[i].begin(), components[i].end(), node) != components[i].end()) return i;
    return components.size();
  };
  CHECK(position(3) < position(0));
}

TEST_CASE("only cycles among the components: one-node components without a self-loop left out", "[gc][scc]") {
  const SparseGraph graph = graph_of(7, {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 4}, {4, 3}, {6, 6}});
  const auto components = heapsnap::collector::strongly_connected_components(graph, heapsnap::collector::SingleNodes::OnlyLooped);
  CHECK(as_sets(components) == std::set<std::set<std::uint32_t>>{{0, 1, 2}, {3, 4}, {6}});
}

TEST_CASE("strongly connected components of a 200k chain and a 200k ring, without recursion", "[gc][scc]") {
  constexpr std::uint32_t n = 200'000;
  SparseGraph chain;
  for (std::uint32_t v = 0; v < n; ++v) {
    if (v + 1 < n) chain.targets.push_back(v + 1);
    chain.offsets.push_back(static_cast<std::uint32_t>(chain.targets.size()));
  }
  CHECK(heapsnap::collector::strongly_connected_components(chain).size() == n);

  SparseGraph ring = chain;
  ring.targets.push_back(0);
  ring.offsets.back() = static_cast<std::uint32_t>(ring.targets.size());
  const auto components = heapsnap::collector::strongly_connected_components(ring);
  REQUIRE(components.size() == 1);
  CHECK(components[0].size() == n);
}

Ref<Node> ring(Collector& gc, int length) {
  std::vector<Ref<Node>> nodes;
  for (int i = 0; i < length; ++i) nodes.push_back(gc.make<Node>());
  for (int i = 0; i < length; ++i) nodes[i]->next = nodes[(i + 1) % length];
  return nodes[0];
}

TEST_CASE_METHOD(GcTest, "cycles found by a collection, grouped by shape", "[gc][cycles]") {
  gc.record_cycles(true, [](const Object& object) {
    return TracebackIndex{dynamic_cast<const Edge*>(&object) != nullptr ? 2u : 1u};
  });
  for (int i = 0; i < 3; ++i) ring(gc, 2);
  {
    Ref<Node> triangle = ring(gc, 3);
    triangle->other = gc.make<Node>();  // a tail: unreachable, but in no cycle
    Ref<Node> self = gc.make<Node>();
    self->next = self;
    Ref<Node> node = gc.make<Node>();  // Node ↔ Edge, the second reference held in a vector
    Ref<Edge> edge = gc.make<Edge>();
    node->other = edge;
    edge->more.push_back(node);
  }
  Ref<Node> reachable = ring(gc, 2);  // a cycle, but still referenced: not garbage
  CHECK(gc.collect() == 3 * 2 + 3 + 1 + 1 + 2);

  const std::vector<GcCycle> cycles = gc.last_cycles();
  REQUIRE(cycles.size() == 6);
  for (const GcCycle& cycle : cycles) {
    CHECK_FALSE(cycle.cycle.reachable);
    CHECK(cycle.types.size() == cycle.cycle.members.size());
    CHECK(cycle.cycle.edges.size() == cycle.cycle.members.size());  // rings: one edge per member
    std::uint64_t bytes = 0;
    for (const heapsnap::CycleMember& member : cycle.cycle.members) {
      bytes += member.size;
      CHECK(member.address != 0);
    }
    CHECK(cycle.cycle.bytes == bytes);
    for (const heapsnap::CycleEdge& e : cycle.cycle.edges) {
      CHECK(e.from < cycle.cycle.members.size());
      CHECK(e.to < cycle.cycle.members.size());
    }
  }

  const auto shapes = heapsnap::gc::group_by_shape(cycles);
  REQUIRE(shapes.size() == 4);
  CHECK(describe(shapes[0]) == "3 cycles of 2 objects: cycletest::Node ↔ cycletest::Node");
  CHECK(shapes[0].bytes == 3 * 2 * sizeof(Node));
  CHECK(shapes[0].tracebacks == std::vector<TracebackIndex>{TracebackIndex{1}, TracebackIndex{1}});
  CHECK(describe(shapes[1]) == "1 cycle of 3 objects: cycletest::Node ↔ cycletest::Node ↔ cycletest::Node");
  CHECK(describe(shapes[2]) == "1 cycle of 2 objects: cycletest::Edge ↔ cycletest::Node");
  CHECK(shapes[2].tracebacks == std::vector<TracebackIndex>{TracebackIndex{2}, TracebackIndex{1}});
  CHECK(shapes[2].bytes == sizeof(Edge) + sizeof(Node));
  CHECK(describe(shapes[3]) == "1 cycle of 1 object: cycletest::Node ↺");
  CHECK(alive_since_start() == 2);
}

TEST_CASE_METHOD(GcTest, "cycle edges carry the byte offset of the referencing field when it is inside the object",
                 "[gc][cycles]") {
  gc.record_cycles(true);
  std::uint64_t next_offset = 0, other_offset = 0;
  {
    Ref<Node> node = gc.make<Node>();
    Ref<Edge> edge = gc.make<Edge>();
    node->next = edge;
    edge->other = node;
    edge->more.push_back(node);  // a second reference, from outside the object
    next_offset = cycletest::offset_of(*node, node->next);
    other_offset = cycletest::offset_of(*edge, edge->other);
  }
  CHECK(next_offset != other_offset);
  CHECK(gc.collect() == 2);
  const std::vector<GcCycle> cycles = gc.last_cycles();
  REQUIRE(cycles.size() == 1);
  const GcCycle& cycle = cycles[0];
  REQUIRE(cycle.types == std::vector<std::string>{"cycletest::Edge", "cycletest::Node"});
  CHECK(cycle.cycle.members[0].size == sizeof(Edge));
  CHECK(cycle.cycle.members[0].traceback == TracebackIndex{0});  // no hook
  // Sorted by (from, to, offset): Edge→Node at `other`, Edge→Node from the vector, Node→Edge at `next`.
  REQUIRE(cycle.cycle.edges.size() == 3);
  CHECK((cycle.cycle.edges[0].from == 0 && cycle.cycle.edges[0].to == 1 && cycle.cycle.edges[0].offset == other_offset));
  CHECK((cycle.cycle.edges[1].from == 0 && cycle.cycle.edges[1].to == 1 &&
         cycle.cycle.edges[1].offset == heapsnap::gc::kUnknownOffset));
  CHECK((cycle.cycle.edges[2].from == 1 && cycle.cycle.edges[2].to == 0 && cycle.cycle.edges[2].offset == next_offset));
}

TEST_CASE_METHOD(GcTest, "cycles are recorded only while asked for, and per collection", "[gc][cycles]") {
  ring(gc, 2);
  CHECK(gc.collect() == 2);
  CHECK(gc.last_cycles().empty());
  gc.record_cycles(true);
  ring(gc, 2);
  CHECK(gc.collect() == 2);
  CHECK(gc.last_cycles().size() == 1);
  CHECK(gc.collect() == 0);
  CHECK(gc.last_cycles().empty());  // the last collection found none
  ring(gc, 2);
  gc.collect();
  gc.record_cycles(false);
  CHECK(gc.last_cycles().empty());
}

TEST_CASE_METHOD(GcTest, "cycles that finalizers resurrect are reported as found", "[gc][cycles]") {
  gc.record_cycles(true);
  Ref<Type> type = make_class(gc, "Lazarus");
  std::vector<Ref<Object>> saved;
  {
    Ref<DelInstance> a = gc.make<DelInstance>(type, [&](DelInstance& self) { saved.emplace_back(&self); });
    a->set("me", a);
  }
  CHECK(gc.collect() == 0);
  CHECK(gc.last_cycles().size() == 1);
  saved.clear();
  CHECK(gc.collect() == 1);
}

}  // namespace
}  // namespace pymodel
