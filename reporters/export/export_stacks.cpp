#include "reporters/export/export_stacks.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "snapshot/statistics.h"
#include "snapshot/utf8.h"

namespace heapsnap {

namespace {

struct FrameIdentityHash {
  std::size_t operator()(const Frame* frame) const {
    const std::size_t h = std::hash<std::string>()(frame->filename) ^ (std::hash<std::string>()(frame->function) << 1);
    return h ^ (std::hash<std::uint32_t>()(frame->lineno) << 2);
  }
};
struct FrameIdentityEqual {
  bool operator()(const Frame* a, const Frame* b) const { return *a == *b; }
};

}  // namespace

ExportStacks weighted_stacks(const Snapshot& snapshot, bool with_activity) {
  // Frames are compared once each, when interned; stacks then compare as integers. A snapshot has far
  // fewer distinct frames than frame occurrences.
  std::unordered_map<const Frame*, ExportFrameId, FrameIdentityHash, FrameIdentityEqual> interned;
  std::vector<const Frame*> frames;
  std::vector<std::vector<ExportFrameId>> stack_of(snapshot.tracebacks.size());  // per traceback, on first use
  std::vector<bool> seen(snapshot.tracebacks.size(), false);
  std::vector<WeightedStack> stacks;
  stacks.reserve(snapshot.traces.size());
  auto frames_of = [&](TracebackIndex traceback) -> const std::vector<ExportFrameId>& {
    const auto index = static_cast<std::uint32_t>(traceback);
    if (index >= snapshot.tracebacks.size()) throw std::out_of_range("trace names a traceback the snapshot does not have");
    if (!seen[index]) {
      seen[index] = true;
      for (const Frame& frame : analysed_frames(snapshot.tracebacks[index])) {
        const auto [entry, added] = interned.try_emplace(&frame, static_cast<ExportFrameId>(frames.size()));
        if (added) frames.push_back(&frame);
        stack_of[index].push_back(entry->second);
      }
    }
    return stack_of[index];
  };
  for (const Trace& trace : snapshot.traces) stacks.push_back({frames_of(trace.traceback), trace.size, trace.count, trace.reachability});
  std::vector<WeightedStack> activity;  // merged into the live stacks below
  if (with_activity) {
    for (const SiteActivity& site : snapshot.activity)
      activity.push_back({frames_of(site.traceback), 0, 0, Reachability::NotAnalyzed, site.calls, site.allocated_size});
  }

  // Renumber the frames in identity order.
  std::vector<ExportFrameId> order(frames.size());
  for (ExportFrameId id = 0; id < order.size(); ++id) order[id] = id;
  std::sort(order.begin(), order.end(), [&](ExportFrameId a, ExportFrameId b) { return *frames[a] < *frames[b]; });
  std::vector<ExportFrameId> renumbered(frames.size());
  ExportStacks result;
  for (ExportFrameId rank = 0; rank < order.size(); ++rank) {
    renumbered[order[rank]] = rank;
    result.frames.push_back(frames[order[rank]]);
  }
  for (std::vector<WeightedStack>* list : {&stacks, &activity}) {
    for (WeightedStack& stack : *list)
      for (ExportFrameId& id : stack.frames) id = renumbered[id];
  }

  // Oldest frame first, as compare_tracebacks orders stacks; equal stacks (two domains, or two
  // tracebacks that differ only in addresses) end up next to each other and are merged.
  const auto oldest_first = [](const WeightedStack& a, const WeightedStack& b) {
    return std::lexicographical_compare_three_way(a.frames.rbegin(), a.frames.rend(), b.frames.rbegin(), b.frames.rend());
  };
  std::sort(stacks.begin(), stacks.end(), [&](const WeightedStack& a, const WeightedStack& b) {
    const auto frames = oldest_first(a, b);
    return frames != 0 ? frames < 0 : a.reachability < b.reachability;
  });
  for (WeightedStack& stack : stacks) {
    if (!result.stacks.empty() && result.stacks.back().reachability == stack.reachability &&
        result.stacks.back().frames == stack.frames) {
      result.stacks.back().bytes += stack.bytes;
      result.stacks.back().blocks += stack.blocks;
    } else {
      result.stacks.push_back(std::move(stack));
    }
  }
  for (WeightedStack& site : activity) {
    const auto at = std::lower_bound(result.stacks.begin(), result.stacks.end(), site,
                                     [&](const WeightedStack& a, const WeightedStack& b) { return oldest_first(a, b) < 0; });
    if (at != result.stacks.end() && at->frames == site.frames) {
      at->calls += site.calls;
      at->allocated += site.allocated;
    } else {
      result.stacks.insert(at, std::move(site));
    }
  }
  return result;
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
