#include "reporters/export/collapsed_export.h"

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "reporters/export/export_stacks.h"

namespace heapsnap {

std::string collapsed_frame_name(const Frame& frame) {
  std::string name = export_frame_name(frame);
  if (!frame.function.empty()) {
    name += " (" + frame.filename;
    if (frame.lineno != 0) name += ":" + std::to_string(frame.lineno);
    name += ")";
  }
  for (char& c : name) {
    if (c == ';') c = ':';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return valid_utf8(name);
}

void CollapsedExporter::render(std::ostream& out) const {
  const ExportStacks exported = weighted_stacks(snapshot_);
  std::vector<std::string> names;
  names.reserve(exported.frames.size());
  for (const Frame* frame : exported.frames) names.push_back(collapsed_frame_name(*frame));
  // Stacks that differ only in reachability, or in frames that read the same, are one line.
  std::map<std::string, std::uint64_t> lines;
  for (const WeightedStack& stack : exported.stacks) {
    if (stack.bytes == 0) continue;  // flamegraph.pl has no use for a stack of no weight
    std::string line;
    for (auto id = stack.frames.rbegin(); id != stack.frames.rend(); ++id) {
      if (!line.empty()) line += ';';
      line += names[*id];
    }
    lines[line] += stack.bytes;
  }
  for (const auto& [stack, bytes] : lines) out << stack << ' ' << bytes << '\n';
}

}  // namespace heapsnap
