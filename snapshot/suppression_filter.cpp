#include "snapshot/suppression_filter.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "snapshot/function_name.h"
#include "snapshot/leak_sites.h"
#include "snapshot/valgrind_stack_match.h"

namespace heapsnap {
namespace {

bool kind_applies(const SuppressionRule& rule, LeakKind leak) {
  switch (leak) {
    case LeakKind::Direct: return (rule.leak_kinds & kDirectLeaks) != 0;
    case LeakKind::Indirect: return (rule.leak_kinds & kIndirectLeaks) != 0;
    case LeakKind::Cycle: return (rule.leak_kinds & kCycleLeaks) != 0;
    case LeakKind::Allocated: return (rule.leak_kinds & kAllocatedBlocks) != 0;
  }
  return false;
}

// Which rules match which tracebacks, each distinct frame tried against the rules once: a snapshot
// repeats the same frames (main, the allocator's callers) in most of its stacks.
class RuleMatcher {
 public:
  RuleMatcher(const std::vector<Traceback>& tracebacks, const SuppressionList& list)
      : tracebacks_(tracebacks), list_(list), by_traceback_(tracebacks.size()) {}

  // The first rule for a leak of `kind` that matches traceback `index`.
  std::optional<std::size_t> first_match(TracebackIndex index, LeakKind kind) {
    const auto i = static_cast<std::uint32_t>(index);
    if (i >= tracebacks_.size()) return std::nullopt;
    if (!by_traceback_[i]) by_traceback_[i] = rules_matching(tracebacks_[i]);
    for (const std::size_t rule : *by_traceback_[i]) {
      if (kind_applies(list_.rules[rule], kind)) return rule;
    }
    return std::nullopt;
  }

 private:
  using FrameKey = std::tuple<std::string_view, std::uint32_t, std::string_view, std::string_view>;

  // Sorted indices of the rules that match a frame of `traceback`.
  std::vector<std::size_t> rules_matching(const Traceback& traceback) {
    std::vector<std::size_t> rules;
    for (const Frame& frame : traceback.frames) {
      const FrameKey key{frame.filename, frame.lineno, frame.function, frame.module};
      auto found = by_frame_.find(key);
      if (found == by_frame_.end()) {
        std::vector<std::size_t> matching;
        for (std::size_t rule = 0; rule < list_.rules.size(); ++rule) {
          if (frame_matches(list_.rules[rule], frame)) matching.push_back(rule);
        }
        found = by_frame_.emplace(key, std::move(matching)).first;
      }
      rules.insert(rules.end(), found->second.begin(), found->second.end());
    }
    for (std::size_t rule = 0; rule < list_.rules.size(); ++rule) {
      if (!list_.rules[rule].frames.empty() && stack_matches(list_.rules[rule], traceback)) rules.push_back(rule);
    }
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
    return rules;
  }

  const std::vector<Traceback>& tracebacks_;
  const SuppressionList& list_;
  std::vector<std::optional<std::vector<std::size_t>>> by_traceback_;
  std::map<FrameKey, std::vector<std::size_t>> by_frame_;
};

void take(std::uint64_t& from, std::uint64_t& wanted) {
  const std::uint64_t taken = std::min(from, wanted);
  from -= taken;
  wanted -= taken;
}

}  // namespace

SuppressedAmount AppliedSuppressions::total() const {
  SuppressedAmount sum;
  for (const SuppressedAmount& amount : matched) {
    sum.blocks += amount.blocks;
    sum.bytes += amount.bytes;
    sum.cycles += amount.cycles;
  }
  return sum;
}

bool frame_matches(const SuppressionRule& rule, const Frame& frame) {
  if (!rule.frames.empty()) return false;  // a Valgrind rule matches whole stacks (stack_matches)
  const GlobPattern& glob = rule.glob;
  if (!frame.function.empty() && (glob.matches(frame.function) || glob.matches(short_function_name(frame.function)))) return true;
  if (matches_path(glob, frame.filename)) return true;
  if (frame.lineno != 0 && matches_path(glob, frame.filename, ":" + std::to_string(frame.lineno))) return true;
  return matches_path(glob, frame.module);
}

SuppressedSnapshot apply_suppressions(Snapshot snapshot, const SuppressionList& list) {
  SuppressedSnapshot result;
  result.applied.list = list;
  result.applied.matched.resize(list.rules.size());
  if (list.rules.empty()) {
    result.snapshot = std::move(snapshot);
    return result;
  }
  std::vector<SuppressedAmount>& matched = result.applied.matched;
  RuleMatcher matcher(snapshot.tracebacks, list);

  // Whole cycles first; their members' blocks are then taken out of the traces at the members' stacks.
  std::map<std::uint32_t, LeakAmount> held_by_cycles;  // per traceback index
  std::vector<Cycle> cycles;
  for (Cycle& cycle : snapshot.cycles) {
    std::optional<std::size_t> rule;
    if (!cycle.reachable) {
      for (const CycleMember& member : cycle.members) {
        const std::optional<std::size_t> match = matcher.first_match(member.traceback, LeakKind::Cycle);
        if (match && (!rule || *match < *rule)) rule = match;
      }
    }
    if (!rule) {
      cycles.push_back(std::move(cycle));
      continue;
    }
    SuppressedAmount& amount = matched[*rule];
    amount.cycles += 1;
    amount.blocks += cycle.members.size();
    amount.bytes += cycle.bytes;
    for (const CycleMember& member : cycle.members) {
      LeakAmount& held = held_by_cycles[static_cast<std::uint32_t>(member.traceback)];
      held.size += member.size;
      held.count += 1;
    }
  }
  snapshot.cycles = std::move(cycles);

  std::vector<Trace> traces;
  for (Trace& trace : snapshot.traces) {
    const std::optional<LeakKind> kind = leak_kind(snapshot, trace);
    if (!kind) {
      traces.push_back(trace);
      continue;
    }
    if (*kind == LeakKind::Cycle || *kind == LeakKind::Allocated) {
      const auto held = held_by_cycles.find(static_cast<std::uint32_t>(trace.traceback));
      if (held != held_by_cycles.end()) {
        take(trace.size, held->second.size);
        take(trace.count, held->second.count);
        if (trace.size == 0 && trace.count == 0) continue;  // all of it was in suppressed cycles
      }
    }
    if (const std::optional<std::size_t> rule = matcher.first_match(trace.traceback, *kind)) {
      matched[*rule].blocks += trace.count;
      matched[*rule].bytes += trace.size;
      continue;
    }
    traces.push_back(trace);
  }
  snapshot.traces = std::move(traces);
  result.snapshot = std::move(snapshot);
  return result;
}

}  // namespace heapsnap
