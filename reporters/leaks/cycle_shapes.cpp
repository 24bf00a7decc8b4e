#include "reporters/leaks/cycle_shapes.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>

#include "snapshot/statistics.h"

namespace heapsnap {
namespace {

using Rank = std::uint32_t;  // a site's place among the distinct sites of the cycles being grouped
constexpr std::uint32_t kNone = ~std::uint32_t{0};

auto as_tuple(const CycleEdge& edge) { return std::tuple(edge.from, edge.to, edge.offset); }

bool edge_less(const CycleEdge& a, const CycleEdge& b) { return as_tuple(a) < as_tuple(b); }

std::strong_ordering compare_edges(const std::vector<CycleEdge>& a, const std::vector<CycleEdge>& b) {
  return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end(),
                                                [](const CycleEdge& x, const CycleEdge& y) {
                                                  return as_tuple(x) <=> as_tuple(y);
                                                });
}

bool same_edges(const std::vector<CycleEdge>& a, const std::vector<CycleEdge>& b) {
  return compare_edges(a, b) == 0;
}

// Ranks of the sites of the selected cycles' members, per traceback index: equal stacks (by identity)
// get equal ranks, and ranks follow compare_tracebacks.
std::vector<Rank> site_ranks(const Snapshot& snapshot, const std::vector<const Cycle*>& cycles) {
  std::vector<bool> used(snapshot.tracebacks.size(), false);
  for (const Cycle* cycle : cycles) {
    for (const CycleMember& member : cycle->members) {
      const auto index = static_cast<std::uint32_t>(member.traceback);
      if (index >= snapshot.tracebacks.size()) {
        throw std::out_of_range("cycle member refers to traceback " + std::to_string(index) + " of " +
                                std::to_string(snapshot.tracebacks.size()));
      }
      used[index] = true;
    }
    for (const CycleEdge& edge : cycle->edges) {
      if (edge.from >= cycle->members.size() || edge.to >= cycle->members.size()) {
        throw std::out_of_range("cycle edge refers to a member the cycle does not have");
      }
    }
  }
  std::vector<std::uint32_t> indices;
  for (std::uint32_t i = 0; i < used.size(); ++i) {
    if (used[i]) indices.push_back(i);
  }
  std::sort(indices.begin(), indices.end(), [&](std::uint32_t a, std::uint32_t b) {
    return compare_tracebacks(snapshot.tracebacks[a], snapshot.tracebacks[b]) < 0;
  });
  std::vector<Rank> ranks(snapshot.tracebacks.size(), kNone);
  Rank rank = 0;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i > 0 && compare_tracebacks(snapshot.tracebacks[indices[i - 1]], snapshot.tracebacks[indices[i]]) != 0) ++rank;
    ranks[indices[i]] = rank;
  }
  return ranks;
}

// One cycle in canonical order.
struct Canonical {
  std::vector<std::uint32_t> order;  // order[k]: the member at canonical position k
  std::vector<Rank> ranks;           // the site rank at each position
  std::vector<CycleEdge> edges;      // between positions, sorted
  bool ring = false;
  bool by_site = false;
  std::vector<CycleEdge> wiring;     // see CycleShape::wiring
};

std::vector<CycleEdge> renumbered(const Cycle& cycle, const std::vector<std::uint32_t>& order) {
  std::vector<std::uint32_t> position(order.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  std::vector<CycleEdge> edges;
  edges.reserve(cycle.edges.size());
  for (const CycleEdge& edge : cycle.edges) edges.push_back({position[edge.from], position[edge.to], edge.offset});
  std::sort(edges.begin(), edges.end(), edge_less);
  return edges;
}

// Each member's only successor when the cycle is a ring, else empty.
std::vector<std::uint32_t> ring_successors(const Cycle& cycle) {
  const std::size_t n = cycle.members.size();
  std::vector<std::uint32_t> next(n, kNone);
  for (const CycleEdge& edge : cycle.edges) {
    if (next[edge.from] == kNone) {
      next[edge.from] = edge.to;
    } else if (next[edge.from] != edge.to) {
      return {};
    }
  }
  // The walk from member 0 must come back to it after exactly n steps, and not before.
  std::uint32_t at = 0;
  for (std::size_t step = 1; step <= n; ++step) {
    at = next[at];
    if (at == kNone || (at == 0) != (step == n)) return {};
  }
  return next;
}

// The start of the lexicographically least rotation of `steps` (the two-pointer minimum-expression
// algorithm: linear time, so a ring of 100,000 blocks costs no more than a list).
template <typename Step>
std::size_t least_rotation(const std::vector<Step>& steps) {
  const std::size_t n = steps.size();
  std::size_t i = 0, j = 1, k = 0;
  while (i < n && j < n && k < n) {
    const auto order = steps[(i + k) % n] <=> steps[(j + k) % n];
    if (order == 0) {
      ++k;
      continue;
    }
    (order > 0 ? i : j) += k + 1;
    if (i == j) ++j;
    k = 0;
  }
  return std::min(i, j);
}

Canonical canonical_ring(const Cycle& cycle, const std::vector<Rank>& ranks, const std::vector<std::uint32_t>& next) {
  // A ring is read as a sequence of steps: a member's site and the offsets of its pointers to the next.
  const std::size_t n = cycle.members.size();
  std::vector<std::vector<std::uint64_t>> offsets(n);
  for (const CycleEdge& edge : cycle.edges) offsets[edge.from].push_back(edge.offset);
  std::vector<std::uint32_t> walk(n);
  walk[0] = 0;
  for (std::size_t k = 1; k < n; ++k) walk[k] = next[walk[k - 1]];
  std::vector<std::tuple<Rank, std::vector<std::uint64_t>>> steps;
  steps.reserve(n);
  for (const std::uint32_t member : walk) {
    std::sort(offsets[member].begin(), offsets[member].end());
    steps.emplace_back(ranks[static_cast<std::uint32_t>(cycle.members[member].traceback)], offsets[member]);
  }
  const std::size_t start = least_rotation(steps);
  Canonical result;
  result.ring = true;
  for (std::size_t k = 0; k < n; ++k) result.order.push_back(walk[(start + k) % n]);
  return result;
}

// Π (members per site)!, or more than `limit` when that is larger.
std::size_t permutations(const std::vector<Rank>& sorted_ranks, std::size_t limit) {
  std::size_t total = 1;
  std::size_t run = 0;
  for (std::size_t k = 0; k < sorted_ranks.size(); ++k) {
    run = k > 0 && sorted_ranks[k] == sorted_ranks[k - 1] ? run + 1 : 1;
    total *= run;
    if (total > limit) return limit + 1;
  }
  return total;
}

Canonical canonical_other(const Cycle& cycle, const std::vector<Rank>& ranks) {
  const std::size_t n = cycle.members.size();
  const auto rank_of = [&](std::uint32_t member) { return ranks[static_cast<std::uint32_t>(cycle.members[member].traceback)]; };
  Canonical result;
  result.order.resize(n);
  std::iota(result.order.begin(), result.order.end(), 0);
  std::stable_sort(result.order.begin(), result.order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return rank_of(a) < rank_of(b); });
  std::vector<Rank> sorted_ranks;
  for (const std::uint32_t member : result.order) sorted_ranks.push_back(rank_of(member));
  // Runs of members of one site: [begin, end) in result.order.
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t k = 0; k < n; ++k) {
    if (k == 0 || sorted_ranks[k] != sorted_ranks[k - 1]) runs.emplace_back(k, k);
    runs.back().second = k + 1;
  }

  if (permutations(sorted_ranks, kMaxPermutations) <= kMaxPermutations) {
    // Every order that keeps the sites sorted, as an odometer of next_permutation over the runs (each
    // run starts sorted and is sorted again when it wraps around); keep the one with the least edges.
    std::vector<std::uint32_t> candidate = result.order;
    std::vector<CycleEdge> best = renumbered(cycle, candidate);
    for (;;) {
      std::size_t run = runs.size();
      while (run > 0 && !std::next_permutation(candidate.begin() + static_cast<std::ptrdiff_t>(runs[run - 1].first),
                                               candidate.begin() + static_cast<std::ptrdiff_t>(runs[run - 1].second))) {
        --run;
      }
      if (run == 0) break;
      std::vector<CycleEdge> edges = renumbered(cycle, candidate);
      if (compare_edges(edges, best) < 0) {
        best = std::move(edges);
        result.order = candidate;
      }
    }
    return result;
  }

  // Too many orders: sort by site, pointers out, pointers in, then address, and compare the wiring
  // between sites.
  std::vector<std::size_t> out(n, 0), in(n, 0);
  for (const CycleEdge& edge : cycle.edges) {
    ++out[edge.from];
    ++in[edge.to];
  }
  std::sort(result.order.begin(), result.order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::tuple(rank_of(a), out[a], in[a], cycle.members[a].address) <
           std::tuple(rank_of(b), out[b], in[b], cycle.members[b].address);
  });
  result.by_site = true;
  std::vector<std::uint32_t> site_of(n);  // member -> first position of its site
  for (const auto& [begin, end] : runs) {
    for (std::size_t k = begin; k < end; ++k) site_of[result.order[k]] = static_cast<std::uint32_t>(begin);
  }
  for (const CycleEdge& edge : cycle.edges) result.wiring.push_back({site_of[edge.from], site_of[edge.to], edge.offset});
  std::sort(result.wiring.begin(), result.wiring.end(), edge_less);
  return result;
}

Canonical canonical(const Cycle& cycle, const std::vector<Rank>& ranks) {
  const std::vector<std::uint32_t> next = ring_successors(cycle);
  Canonical result = next.empty() ? canonical_other(cycle, ranks) : canonical_ring(cycle, ranks, next);
  for (const std::uint32_t member : result.order) {
    result.ranks.push_back(ranks[static_cast<std::uint32_t>(cycle.members[member].traceback)]);
  }
  result.edges = renumbered(cycle, result.order);
  if (!result.by_site) result.wiring = result.edges;
  return result;
}

Cycle reordered(const Cycle& cycle, const Canonical& canonical) {
  Cycle result;
  for (const std::uint32_t member : canonical.order) result.members.push_back(cycle.members[member]);
  result.edges = canonical.edges;
  result.bytes = cycle.bytes;
  result.reachable = cycle.reachable;
  return result;
}

using ShapeKey = std::tuple<std::vector<Rank>, bool, bool, std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>>>;

ShapeKey key_of(const Canonical& canonical) {
  std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>> wiring;
  for (const CycleEdge& edge : canonical.wiring) wiring.push_back(as_tuple(edge));
  return {canonical.ranks, canonical.ring, canonical.by_site, std::move(wiring)};
}

}  // namespace

std::vector<CycleShape> cycle_shapes(const Snapshot& snapshot, CycleSelection selection) {
  std::vector<const Cycle*> selected;
  for (const Cycle& cycle : snapshot.cycles) {
    if (cycle.reachable == (selection == CycleSelection::Reachable)) selected.push_back(&cycle);
  }
  const std::vector<Rank> ranks = site_ranks(snapshot, selected);

  std::map<ShapeKey, std::size_t> shape_of;
  std::vector<CycleShape> shapes;
  for (const Cycle* cycle : selected) {
    Canonical form = canonical(*cycle, ranks);
    const auto [it, inserted] = shape_of.try_emplace(key_of(form), shapes.size());
    if (inserted) {
      CycleShape& shape = shapes.emplace_back();
      for (const std::uint32_t member : form.order) {
        shape.sites.push_back(snapshot.tracebacks[static_cast<std::uint32_t>(cycle->members[member].traceback)]);
      }
      shape.ring = form.ring;
      shape.by_site = form.by_site;
      shape.wiring = std::move(form.wiring);
    }
    CycleShape& shape = shapes[it->second];
    shape.bytes += cycle->bytes;
    shape.cycles.push_back(reordered(*cycle, form));
  }

  for (CycleShape& shape : shapes) {
    std::sort(shape.cycles.begin(), shape.cycles.end(), [](const Cycle& a, const Cycle& b) {
      return std::lexicographical_compare(a.members.begin(), a.members.end(), b.members.begin(), b.members.end(),
                                          [](const CycleMember& x, const CycleMember& y) { return x.address < y.address; });
    });
    shape.edges = shape.cycles.front().edges;
    shape.same_wiring = std::all_of(shape.cycles.begin(), shape.cycles.end(),
                                    [&](const Cycle& cycle) { return same_edges(cycle.edges, shape.edges); });
  }
  std::sort(shapes.begin(), shapes.end(), [](const CycleShape& a, const CycleShape& b) {
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    if (a.count() != b.count()) return a.count() > b.count();
    if (a.sites.size() != b.sites.size()) return a.sites.size() > b.sites.size();
    return compare_shapes(a, b) < 0;
  });
  return shapes;
}

std::strong_ordering compare_shapes(const CycleShape& a, const CycleShape& b) {
  const auto sites = std::lexicographical_compare_three_way(a.sites.begin(), a.sites.end(), b.sites.begin(),
                                                            b.sites.end(), compare_tracebacks);
  if (sites != 0) return sites;
  if (a.ring != b.ring) return a.ring <=> b.ring;
  if (a.by_site != b.by_site) return a.by_site <=> b.by_site;
  return compare_edges(a.wiring, b.wiring);
}

}  // namespace heapsnap
