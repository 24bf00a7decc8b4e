// Cycles grouped by shape: the canonical order does not depend on addresses, on the order the
// collector listed members and edges in, or on where a ring starts; different wiring is another shape.

#include <catch2/catch.hpp>

#include <algorithm>
#include <initializer_list>

#include "reporters/leaks/cycle_shapes.h"
#include "snapshot/snapshot_json.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

const Traceback kNodeA = stack({frame("src/graph.cpp", 10, "make_a"), frame("src/main.cpp", 5, "main")});
const Traceback kNodeB = stack({frame("src/graph.cpp", 20, "make_b"), frame("src/main.cpp", 6, "main")});
const Traceback kNodeC = stack({frame("src/graph.cpp", 30, "make_c"), frame("src/main.cpp", 7, "main")});

// Tracebacks 0, 1, 2 are A, B, C.
Snapshot with_cycles(std::vector<Cycle> cycles) {
  Snapshot snapshot;
  snapshot.leak_analysis = true;
  snapshot.tracebacks = {kNodeA, kNodeB, kNodeC};
  snapshot.cycles = std::move(cycles);
  return snapshot;
}

struct M {
  std::uint64_t address;
  std::uint32_t site;
  std::uint64_t size = 32;
};

Cycle cycle(std::initializer_list<M> members, std::initializer_list<CycleEdge> edges, bool reachable = false) {
  Cycle result;
  for (const M& m : members) {
    result.members.push_back({m.address, m.size, TracebackIndex{m.site}});
    result.bytes += m.size;
  }
  result.edges = edges;
  result.reachable = reachable;
  return result;
}

std::vector<std::uint64_t> addresses(const Cycle& cycle) {
  std::vector<std::uint64_t> result;
  for (const CycleMember& member : cycle.members) result.push_back(member.address);
  return result;
}

bool edges_are(const std::vector<CycleEdge>& edges, std::initializer_list<CycleEdge> expected) {
  return std::equal(edges.begin(), edges.end(), expected.begin(), expected.end(), [](const CycleEdge& a, const CycleEdge& b) {
    return a.from == b.from && a.to == b.to && a.offset == b.offset;
  });
}

}  // namespace

TEST_CASE("2-rings group into one shape whatever the member order and addresses", "[cycles]") {
  // A <-> B three times: members listed A first, B first, and with the edges in another order.
  const Snapshot snapshot = with_cycles({
      cycle({{0x100, 0}, {0x200, 1}}, {{0, 1, 16}, {1, 0, 8}}),
      cycle({{0x900, 1}, {0x300, 0}}, {{1, 0, 16}, {0, 1, 8}}),
      cycle({{0x500, 0}, {0x400, 1}}, {{1, 0, 8}, {0, 1, 16}}),
      cycle({{0x600, 0}}, {{0, 0, 0}}),                      // a self-cycle
      cycle({{0x700, 0}, {0x800, 1}}, {{0, 1, 16}, {1, 0, 8}}, true),  // reachable: not selected
  });
  const std::vector<CycleShape> shapes = cycle_shapes(snapshot, CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 2);
  const CycleShape& pair = shapes[0];
  CHECK(pair.count() == 3);
  CHECK(pair.blocks() == 6);
  CHECK(pair.bytes == 192);
  CHECK(pair.ring);
  CHECK(pair.same_wiring);
  REQUIRE(pair.sites.size() == 2);
  CHECK(pair.sites[0] == kNodeA);  // the rotation with the smaller site first
  CHECK(pair.sites[1] == kNodeB);
  CHECK(edges_are(pair.edges, {{0, 1, 16}, {1, 0, 8}}));
  // Every cycle in the canonical order (A first), sorted by address.
  CHECK(addresses(pair.cycles[0]) == std::vector<std::uint64_t>{0x100, 0x200});
  CHECK(addresses(pair.cycles[1]) == std::vector<std::uint64_t>{0x300, 0x900});
  CHECK(addresses(pair.cycles[2]) == std::vector<std::uint64_t>{0x500, 0x400});
  for (const Cycle& c : pair.cycles) CHECK(edges_are(c.edges, {{0, 1, 16}, {1, 0, 8}}));

  const CycleShape& self = shapes[1];
  CHECK(self.count() == 1);
  CHECK(self.ring);
  CHECK(self.sites == std::vector<Traceback>{kNodeA});

  const std::vector<CycleShape> reachable = cycle_shapes(snapshot, CycleSelection::Reachable);
  REQUIRE(reachable.size() == 1);
  CHECK(reachable[0].count() == 1);
  CHECK(reachable[0].cycles[0].reachable);
}

TEST_CASE("a ring is one shape from any starting member; the other direction is another shape", "[cycles]") {
  // A -> B -> C -> A listed from each member in turn, and A -> C -> B -> A.
  const Snapshot snapshot = with_cycles({
      cycle({{0x10, 0}, {0x20, 1}, {0x30, 2}}, {{0, 1, 0}, {1, 2, 0}, {2, 0, 0}}),
      cycle({{0x40, 1}, {0x50, 2}, {0x60, 0}}, {{0, 1, 0}, {1, 2, 0}, {2, 0, 0}}),
      cycle({{0x70, 2}, {0x80, 0}, {0x90, 1}}, {{2, 0, 0}, {0, 1, 0}, {1, 2, 0}}),
      cycle({{0xa0, 0}, {0xb0, 2}, {0xc0, 1}}, {{0, 1, 0}, {1, 2, 0}, {2, 0, 0}}),
  });
  const std::vector<CycleShape> shapes = cycle_shapes(snapshot, CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 2);
  CHECK(shapes[0].count() == 3);
  CHECK(shapes[0].sites == std::vector<Traceback>{kNodeA, kNodeB, kNodeC});
  CHECK(edges_are(shapes[0].edges, {{0, 1, 0}, {1, 2, 0}, {2, 0, 0}}));
  CHECK(addresses(shapes[0].cycles[1]) == std::vector<std::uint64_t>{0x60, 0x40, 0x50});
  CHECK(shapes[1].count() == 1);
  CHECK(shapes[1].sites == std::vector<Traceback>{kNodeA, kNodeC, kNodeB});
}

TEST_CASE("rings of one site differ by the offsets of their pointers", "[cycles]") {
  const Snapshot snapshot = with_cycles({
      cycle({{0x10, 0}, {0x20, 0}}, {{0, 1, 8}, {1, 0, 16}}),
      cycle({{0x30, 0}, {0x40, 0}}, {{0, 1, 16}, {1, 0, 8}}),  // the same ring, started at the other member
      cycle({{0x50, 0}, {0x60, 0}}, {{0, 1, 8}, {1, 0, 8}}),   // another shape
      cycle({{0x70, 0}, {0x80, 0}}, {{0, 1, kUnknownEdgeOffset}, {1, 0, kUnknownEdgeOffset}}),
  });
  const std::vector<CycleShape> shapes = cycle_shapes(snapshot, CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 3);
  CHECK(shapes[0].count() == 2);
  CHECK(edges_are(shapes[0].edges, {{0, 1, 8}, {1, 0, 16}}));
  CHECK(addresses(shapes[0].cycles[1]) == std::vector<std::uint64_t>{0x40, 0x30});
}

TEST_CASE("shapes are sorted by bytes, then count, then members", "[cycles]") {
  const Snapshot snapshot = with_cycles({
      cycle({{0x10, 2, 8}}, {{0, 0, 0}}),
      cycle({{0x20, 0, 100}, {0x30, 1, 100}}, {{0, 1, 0}, {1, 0, 0}}),
      cycle({{0x40, 1, 8}}, {{0, 0, 0}}),
      cycle({{0x50, 1, 8}}, {{0, 0, 0}}),
  });
  const std::vector<CycleShape> shapes = cycle_shapes(snapshot, CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 3);
  CHECK(shapes[0].bytes == 200);
  CHECK(shapes[1].sites == std::vector<Traceback>{kNodeB});
  CHECK(shapes[1].count() == 2);
  CHECK(shapes[2].sites == std::vector<Traceback>{kNodeC});
}

TEST_CASE("a cycle that is not a ring is put in the order with the least edges", "[cycles]") {
  // A parent (site A) with two children (site B) that point back to it, listed in different orders.
  const Snapshot snapshot = with_cycles({
      cycle({{0x10, 0}, {0x20, 1}, {0x30, 1}}, {{0, 1, 8}, {0, 2, 16}, {1, 0, 0}, {2, 0, 0}}),
      cycle({{0x40, 1}, {0x50, 1}, {0x60, 0}}, {{2, 0, 16}, {2, 1, 8}, {0, 2, 0}, {1, 2, 0}}),
  });
  const std::vector<CycleShape> shapes = cycle_shapes(snapshot, CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 1);
  CHECK_FALSE(shapes[0].ring);
  CHECK_FALSE(shapes[0].by_site);
  CHECK(shapes[0].same_wiring);
  CHECK(shapes[0].sites == std::vector<Traceback>{kNodeA, kNodeB, kNodeB});
  CHECK(edges_are(shapes[0].edges, {{0, 1, 8}, {0, 2, 16}, {1, 0, 0}, {2, 0, 0}}));
  // The child at offset 8 comes first in both.
  CHECK(addresses(shapes[0].cycles[0]) == std::vector<std::uint64_t>{0x10, 0x20, 0x30});
  CHECK(addresses(shapes[0].cycles[1]) == std::vector<std::uint64_t>{0x60, 0x50, 0x40});
}

TEST_CASE("beyond kMaxPermutations a cycle's wiring is compared between sites", "[cycles]") {
  // Six members of one site, each pointing to two others (720 orders): to its neighbours both ways
  // round a ring, or to the next and the one after. Between sites the two look alike: every member has
  // two pointers out and two in, all at offset 0, all to its own site.
  Cycle both_ways = cycle({{0x100, 0}, {0x101, 0}, {0x102, 0}, {0x103, 0}, {0x104, 0}, {0x105, 0}}, {});
  Cycle other = cycle({{0x200, 0}, {0x201, 0}, {0x202, 0}, {0x203, 0}, {0x204, 0}, {0x205, 0}}, {});
  for (std::uint32_t k = 0; k < 6; ++k) {
    both_ways.edges.push_back({k, (k + 1) % 6, 0});
    both_ways.edges.push_back({k, (k + 5) % 6, 0});
    other.edges.push_back({k, (k + 1) % 6, 0});
    other.edges.push_back({k, (k + 2) % 6, 0});
  }
  const Snapshot snapshot = with_cycles({both_ways, other});
  const std::vector<CycleShape> shapes = cycle_shapes(snapshot, CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 1);
  CHECK(shapes[0].by_site);
  CHECK_FALSE(shapes[0].same_wiring);
  CHECK(shapes[0].count() == 2);
  CHECK(shapes[0].edges.size() == 12);
}

TEST_CASE("a ring of 100,000 blocks is grouped in linear time", "[cycles]") {
  constexpr std::uint32_t kLength = 100000;
  Cycle ring;
  for (std::uint32_t k = 0; k < kLength; ++k) {
    ring.members.push_back({0x1000 + 16ULL * ((k * 7919ULL) % kLength), 16, TracebackIndex{k % 2}});
    ring.edges.push_back({k, (k + 1) % kLength, 8});
  }
  ring.bytes = 16ULL * kLength;
  const std::vector<CycleShape> shapes = cycle_shapes(with_cycles({ring}), CycleSelection::Unreachable);
  REQUIRE(shapes.size() == 1);
  CHECK(shapes[0].ring);
  CHECK(shapes[0].sites.size() == kLength);
  CHECK(shapes[0].sites[0] == kNodeA);
  CHECK(shapes[0].sites[1] == kNodeB);
}

TEST_CASE("shapes of two snapshots compare by their stacks, not by traceback indices", "[cycles]") {
  const Snapshot first = with_cycles({cycle({{0x10, 0}, {0x20, 1}}, {{0, 1, 0}, {1, 0, 0}})});
  Snapshot second = with_cycles({cycle({{0x30, 2}, {0x40, 0}}, {{0, 1, 0}, {1, 0, 0}})});
  second.tracebacks = {kNodeB, kNodeC, kNodeA};  // the same two stacks under other indices
  const auto a = cycle_shapes(first, CycleSelection::Unreachable);
  const auto b = cycle_shapes(second, CycleSelection::Unreachable);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(std::is_eq(compare_shapes(a[0], b[0])));
  second.tracebacks = {kNodeC, kNodeC, kNodeA};
  CHECK(std::is_neq(compare_shapes(a[0], cycle_shapes(second, CycleSelection::Unreachable)[0])));
}

TEST_CASE("a cycle naming a traceback the snapshot does not have is refused", "[cycles]") {
  CHECK_THROWS_AS(cycle_shapes(with_cycles({cycle({{0x10, 7}}, {{0, 0, 0}})}), CycleSelection::Unreachable),
                  std::out_of_range);
  CHECK_THROWS_AS(cycle_shapes(with_cycles({cycle({{0x10, 0}}, {{0, 1, 0}})}), CycleSelection::Unreachable),
                  std::out_of_range);
}
