#include "snapshot/snapshot_schema.h"

#include <limits>
#include <utility>

namespace heapsnap::snapshot_schema {

std::string dump(const OrderedJson& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::optional<CycleDefect> cycle_defect(const Cycle& cycle, std::size_t traceback_count) {
  const std::size_t members = cycle.members.size();
  if (members == 0) return CycleDefect{"/members", "a cycle has at least one member"};
  std::uint64_t bytes = 0;
  for (std::size_t k = 0; k < members; ++k) {
    const auto traceback = static_cast<std::uint32_t>(cycle.members[k].traceback);
    if (traceback >= traceback_count) {
      return CycleDefect{"/members/" + std::to_string(k) + "/traceback",
                         "traceback " + std::to_string(traceback) + " does not exist (/tracebacks has " +
                             std::to_string(traceback_count) + " entries)"};
    }
    if (cycle.members[k].size > std::numeric_limits<std::uint64_t>::max() - bytes) {
      return CycleDefect{"/members/" + std::to_string(k) + "/size", "the members' sizes add up to more than 64 bits"};
    }
    bytes += cycle.members[k].size;
  }
  for (std::size_t e = 0; e < cycle.edges.size(); ++e) {
    for (const auto& [field, member] : {std::pair{"from", cycle.edges[e].from}, std::pair{"to", cycle.edges[e].to}}) {
      if (member >= members) {
        return CycleDefect{"/edges/" + std::to_string(e) + "/" + field,
                           "member " + std::to_string(member) + " does not exist (the cycle has " +
                               std::to_string(members) + (members == 1 ? " member)" : " members)")};
      }
    }
  }
  if (members == 1 && cycle.edges.empty()) {
    return CycleDefect{"/edges", "a cycle of one member needs an edge (the member pointing to itself)"};
  }
  if (bytes != cycle.bytes) {
    return CycleDefect{"/bytes", std::to_string(cycle.bytes) + " is not the sum of the members' sizes (" +
                                     std::to_string(bytes) + ")"};
  }
  return std::nullopt;
}

}  // namespace heapsnap::snapshot_schema
