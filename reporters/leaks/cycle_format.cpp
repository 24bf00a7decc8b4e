#include "reporters/leaks/cycle_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "reporters/frame_format.h"
#include "snapshot/format_size.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/statistics.h"

namespace heapsnap {
namespace {

// Rings up to this length are drawn member by member in the headline; longer ones are summed by frame.
constexpr std::size_t kRingDrawnWhole = 6;

std::string counted(std::uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// A member as the headline names it: by the frame that allocated it.
std::string allocated_at(const Traceback& site) {
  return site.frames.empty() ? "<unknown>" : format_frame(site.frames.front());
}

// "96 B each", or the total when the cycles of the shape differ in size (or there is one).
std::string amount(const CycleShape& shape) {
  const std::uint64_t first = shape.cycles.front().bytes;
  const bool uniform = std::all_of(shape.cycles.begin(), shape.cycles.end(),
                                   [&](const Cycle& cycle) { return cycle.bytes == first; });
  if (shape.count() == 1) return format_size(shape.bytes);
  return uniform ? format_size(first) + " each" : format_size(shape.bytes) + " in all";
}

// "998 blocks at A, 2 blocks at B": members counted by allocating frame, in order of first appearance.
std::string by_frame(const CycleShape& shape) {
  std::vector<std::pair<std::string, std::uint64_t>> frames;
  std::map<std::string, std::size_t> index_of;
  for (const Traceback& site : shape.sites) {
    const auto [it, inserted] = index_of.try_emplace(allocated_at(site), frames.size());
    if (inserted) frames.emplace_back(it->first, 0);
    ++frames[it->second].second;
  }
  std::string text;
  for (const auto& [frame, members] : frames) {
    text += (text.empty() ? "" : ", ") + counted(members, "block", "blocks") + " at " + frame;
  }
  return text;
}

std::string offsets_text(const std::vector<std::uint64_t>& offsets) {
  std::string text = offsets.size() == 1 ? "offset " : "offsets ";
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    text += (i == 0 ? "" : ", ") + (offsets[i] == kUnknownEdgeOffset ? std::string("unknown") : std::to_string(offsets[i]));
  }
  return text;
}

// " points to block 2 (offsets 16, 24), block 3 (offset 8)", from the shape's sorted edges.
std::string pointers_of(const CycleShape& shape, std::uint32_t member) {
  std::string text;
  for (auto edge = shape.edges.begin(); edge != shape.edges.end();) {
    if (edge->from != member) {
      ++edge;
      continue;
    }
    std::vector<std::uint64_t> offsets;
    const std::uint32_t to = edge->to;
    for (; edge != shape.edges.end() && edge->from == member && edge->to == to; ++edge) offsets.push_back(edge->offset);
    text += (text.empty() ? " points to " : ", ") + (to == member ? std::string("itself") : "block " + std::to_string(to + 1)) +
            " (" + offsets_text(offsets) + ")";
  }
  return text;
}

// "48 B", or "48 B to 96 B" when the member at `position` differs in size between the cycles.
std::string member_size(const CycleShape& shape, std::size_t position) {
  std::uint64_t low = shape.cycles.front().members[position].size;
  std::uint64_t high = low;
  for (const Cycle& cycle : shape.cycles) {
    low = std::min(low, cycle.members[position].size);
    high = std::max(high, cycle.members[position].size);
  }
  return low == high ? format_size(low) : format_size(low) + " to " + format_size(high);
}

std::string hex(std::uint64_t value) {
  std::array<char, 16> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value, 16);
  return "0x" + std::string(digits.data(), result.ptr);
}

}  // namespace

std::string describe_shape(const CycleShape& shape) {
  const std::vector<Traceback>& sites = shape.sites;
  if (sites.size() == 1 && shape.ring) {
    return counted(shape.count(), "self-cycle", "self-cycles") + " (" + amount(shape) + "): block at " +
           allocated_at(sites[0]) + " → itself";
  }
  const std::string text = counted(shape.count(), "cycle", "cycles") + " of " + std::to_string(sites.size()) +
                           " blocks (" + amount(shape) + "): ";
  if (shape.ring && sites.size() == 2) {
    return text + "block at " + allocated_at(sites[0]) + " ↔ block at " + allocated_at(sites[1]);
  }
  if (shape.ring && sites.size() <= kRingDrawnWhole) {
    std::string ring;
    for (const Traceback& site : sites) ring += "block at " + allocated_at(site) + " → ";
    return text + ring + "back to the first";
  }
  return text + by_frame(shape);
}

void write_shape_members(std::ostream& out, const CycleShape& shape, std::string_view indent) {
  const std::string stack_indent = std::string(indent) + "    ";
  if (!shape.same_wiring) {
    out << indent << "(these cycles differ in which block points to which; the pointers shown are the first one's)\n";
  }
  if (shape.sites.size() <= kMembersShownOneByOne) {
    for (std::uint32_t k = 0; k < shape.sites.size(); ++k) {
      out << indent << "block " << (k + 1) << " (" << member_size(shape, k) << ")" << pointers_of(shape, k) << "\n";
      write_stack(out, shape.sites[k], stack_indent);
    }
    return;
  }
  // Large cycles (a leaked doubly linked list, a graph): one entry per allocation stack.
  std::map<Traceback, std::size_t, TracebackLess> index_of;
  std::vector<std::pair<const Traceback*, std::uint64_t>> sites;
  for (const Traceback& site : shape.sites) {
    const auto [it, inserted] = index_of.try_emplace(site, sites.size());
    if (inserted) sites.emplace_back(&site, 0);
    ++sites[it->second].second;
  }
  for (const auto& [site, members] : sites) {
    out << indent << counted(members, "block", "blocks") << " of each cycle\n";
    write_stack(out, *site, stack_indent);
  }
  out << indent << counted(shape.edges.size(), "pointer", "pointers") << " between the blocks of "
      << (shape.same_wiring ? "each cycle" : "the first cycle") << "\n";
}

nlohmann::ordered_json edges_to_json(const std::vector<CycleEdge>& edges) {
  auto result = nlohmann::ordered_json::array();
  for (const CycleEdge& edge : edges) {
    result.push_back({{"from", edge.from},
                      {"to", edge.to},
                      {"offset", edge.offset == kUnknownEdgeOffset ? nlohmann::ordered_json(nullptr)
                                                                   : nlohmann::ordered_json(edge.offset)}});
  }
  return result;
}

nlohmann::ordered_json shape_to_json(const CycleShape& shape) {
  auto members = nlohmann::ordered_json::array();
  for (const Traceback& site : shape.sites) members.push_back({{"traceback", traceback_to_json(site)}});
  return {{"count", shape.count()},
          {"bytes", shape.bytes},
          {"blocks", shape.blocks()},
          {"members", std::move(members)},
          {"edges", edges_to_json(shape.edges)},
          {"same_wiring", shape.same_wiring}};
}

nlohmann::ordered_json cycle_to_json(const Cycle& cycle, const CycleShape& shape, bool with_tracebacks) {
  auto members = nlohmann::ordered_json::array();
  for (std::size_t k = 0; k < cycle.members.size(); ++k) {
    nlohmann::ordered_json member = {{"address", hex(cycle.members[k].address)}, {"size", cycle.members[k].size}};
    if (with_tracebacks) member["traceback"] = traceback_to_json(shape.sites[k]);
    members.push_back(std::move(member));
  }
  return {{"members", std::move(members)}, {"edges", edges_to_json(cycle.edges)}, {"bytes", cycle.bytes}};
}

}  // namespace heapsnap
