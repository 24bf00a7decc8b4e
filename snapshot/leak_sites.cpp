#include "snapshot/leak_sites.h"

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>
#include <utility>

#include "snapshot/statistics.h"

namespace heapsnap {
namespace {

constexpr std::size_t kKindCount = 4;

// Leaked amounts per kind at one traceback.
using AmountsByKind = std::array<LeakAmount, kKindCount>;

std::map<Traceback, AmountsByKind, TracebackLess> leaks_by_traceback(const Snapshot& snapshot) {
  std::map<Traceback, AmountsByKind, TracebackLess> leaks;
  for (const Trace& trace : snapshot.traces) {
    const std::optional<LeakKind> kind = leak_kind(snapshot, trace);
    if (!kind) continue;
    const Traceback& traceback = snapshot.tracebacks.at(static_cast<std::uint32_t>(trace.traceback));
    LeakAmount& amount = leaks[traceback][static_cast<std::size_t>(*kind)];
    amount.size += trace.size;
    amount.count += trace.count;
  }
  return leaks;
}

LeakAmount sum(const AmountsByKind& amounts) {
  LeakAmount total;
  for (const LeakAmount& amount : amounts) {
    total.size += amount.size;
    total.count += amount.count;
  }
  return total;
}

LeakKind main_kind(const AmountsByKind& amounts) {
  std::size_t best = 0;
  for (std::size_t kind = 1; kind < kKindCount; ++kind) {
    const auto key = [&](std::size_t k) { return std::pair(amounts[k].size, amounts[k].count); };
    if (key(kind) > key(best)) best = kind;
  }
  return static_cast<LeakKind>(best);
}

}  // namespace

std::string_view leak_kind_name(LeakKind kind) {
  switch (kind) {
    case LeakKind::Direct: return "direct";
    case LeakKind::Indirect: return "indirect";
    case LeakKind::Cycle: return "cycle";
    case LeakKind::Allocated: return "allocated";
  }
  return "unknown";
}

std::optional<LeakKind> leak_kind_of(Reachability reachability) {
  switch (reachability) {
    case Reachability::Direct: return LeakKind::Direct;
    case Reachability::Indirect: return LeakKind::Indirect;
    case Reachability::Cycle: return LeakKind::Cycle;
    case Reachability::NotAnalyzed:
    case Reachability::Reachable: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<LeakKind> leak_kind(const Snapshot& snapshot, const Trace& trace) {
  if (trace.before_tracing) return std::nullopt;  // no site of the program's to blame: counted apart
  if (!snapshot.leak_analysis) return LeakKind::Allocated;
  return leak_kind_of(trace.reachability);
}

std::vector<LeakSite> collect_leak_sites(const Snapshot& snapshot) {
  std::vector<LeakSite> sites;
  for (auto& [traceback, amounts] : leaks_by_traceback(snapshot)) {
    for (std::size_t kind = 0; kind < kKindCount; ++kind) {
      if (amounts[kind].count == 0 && amounts[kind].size == 0) continue;
      sites.push_back({static_cast<LeakKind>(kind), traceback, amounts[kind].size, amounts[kind].count, {}});
    }
  }
  sort_leak_sites(sites);
  return sites;
}

std::vector<LeakSite> leak_growth(const Snapshot& current, const Snapshot& baseline) {
  const auto before = leaks_by_traceback(baseline);
  std::vector<LeakSite> sites;
  for (auto& [traceback, amounts] : leaks_by_traceback(current)) {
    const LeakAmount now = sum(amounts);
    const auto previous = before.find(traceback);
    const LeakAmount was = previous == before.end() ? LeakAmount{} : sum(previous->second);
    const std::uint64_t size_growth = now.size > was.size ? now.size - was.size : 0;
    const std::uint64_t count_growth = now.count > was.count ? now.count - was.count : 0;
    if (size_growth == 0 && count_growth == 0) continue;
    sites.push_back({main_kind(amounts), traceback, size_growth, count_growth, was});
  }
  sort_leak_sites(sites);
  return sites;
}

void sort_leak_sites(std::vector<LeakSite>& sites) {
  std::sort(sites.begin(), sites.end(), [](const LeakSite& a, const LeakSite& b) {
    if (a.size != b.size) return a.size > b.size;
    if (a.count != b.count) return a.count > b.count;
    if (const auto order = compare_tracebacks(a.traceback, b.traceback); order != 0) return order < 0;
    return a.kind < b.kind;
  });
}

}  // namespace heapsnap
