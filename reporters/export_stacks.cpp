#include "reporters/export_stacks.h"

#include <algorithm>
#include <stdexcept>

#include "profiler/statistics.h"
#include "profiler/utf8.h"

namespace heapsnap {

std::vector<WeightedStack> weighted_stacks(const Snapshot& snapshot) {
  std::vector<WeightedStack> stacks;
  stacks.reserve(snapshot.traces.size());
  for (const Trace& trace : snapshot.traces) {
    const std::uint32_t index = static_cast<std::uint32_t>(trace.traceback);
    if (index >= snapshot.tracebacks.size()) throw std::out_of_range("trace names a traceback the snapshot does not have");
    stacks.push_back({&analysed_frames(snapshot.tracebacks[index]), trace.size, trace.count, trace.reachability});
  }
  // Oldest frame first, as compare_tracebacks orders stacks; equal stacks (two domains, or two
  // tracebacks that differ only in addresses) end up next to each other and are merged.
  const auto order = [](const WeightedStack& a, const WeightedStack& b) {
    const auto frames = std::lexicographical_compare_three_way(a.frames->rbegin(), a.frames->rend(),
                                                               b.frames->rbegin(), b.frames->rend());
    if (frames != 0) return frames < 0;
    return a.reachability < b.reachability;
  };
  std::sort(stacks.begin(), stacks.end(), order);
  std::vector<WeightedStack> merged;
  for (const WeightedStack& stack : stacks) {
    if (!merged.empty() && merged.back().reachability == stack.reachability && *merged.back().frames == *stack.frames) {
      merged.back().bytes += stack.bytes;
      merged.back().blocks += stack.blocks;
    } else {
      merged.push_back(stack);
    }
  }
  return merged;
}

std::string export_frame_name(const Frame& frame) {
  if (!frame.function.empty()) return frame.function;
  const std::string file = frame.filename.empty() ? "<unknown>" : frame.filename;
  return frame.lineno == 0 ? file : file + ":" + std::to_string(frame.lineno);
}

std::string valid_utf8(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      result += "\xEF\xBF\xBD";  // U+FFFD for the one invalid byte; decoding resumes at the next
      ++i;
    } else {
      result.append(text, i, length);
      i += length;
    }
  }
  return result;
}

std::string_view reachability_name(Reachability reachability) {
  switch (reachability) {
    case Reachability::NotAnalyzed: return "not_analyzed";
    case Reachability::Reachable: return "reachable";
    case Reachability::Direct: return "direct";
    case Reachability::Indirect: return "indirect";
    case Reachability::Cycle: return "cycle";
  }
  return "not_analyzed";
}

}  // namespace heapsnap
