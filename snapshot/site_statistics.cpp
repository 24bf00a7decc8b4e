#include "snapshot/site_statistics.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

namespace heapsnap {
namespace {

using Groups = std::map<Traceback, SiteStatistic, TracebackLess>;

SiteStatistic& group_of(Groups& groups, const Snapshot& snapshot, TracebackIndex index, GroupBy group_by) {
  const auto i = static_cast<std::uint32_t>(index);
  if (i >= snapshot.tracebacks.size())
    throw std::out_of_range("refers to traceback " + std::to_string(i) + " of " + std::to_string(snapshot.tracebacks.size()));
  Traceback key = group_key(snapshot.tracebacks[i], group_by);
  auto [it, inserted] = groups.try_emplace(key);
  if (inserted) it->second.traceback = std::move(key);
  return it->second;
}

Groups group(const Snapshot& snapshot, GroupBy group_by) {
  Groups groups;
  for (const Trace& trace : snapshot.traces) {
    SiteStatistic& group = group_of(groups, snapshot, trace.traceback, group_by);
    group.size += trace.size;
    group.count += trace.count;
  }
  for (const SiteActivity& activity : snapshot.activity) {
    SiteStatistic& group = group_of(groups, snapshot, activity.traceback, group_by);
    group.calls += activity.calls;
    group.allocated_size += activity.allocated_size;
    group.temporary += activity.temporary;
    group.peak_size += activity.peak_size;
    group.peak_count += activity.peak_count;
  }
  return groups;
}

std::uint64_t magnitude(std::int64_t value) {
  return value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
}

}  // namespace

std::string_view measure_name(Measure measure) {
  switch (measure) {
    case Measure::Live: return "live";
    case Measure::Allocated: return "allocated";
    case Measure::Calls: return "calls";
    case Measure::Temporary: return "temporary";
    case Measure::Peak: return "peak";
  }
  return "live";
}

std::uint64_t measure_of(const SiteStatistic& statistic, Measure measure) {
  switch (measure) {
    case Measure::Live: return statistic.size;
    case Measure::Allocated: return statistic.allocated_size;
    case Measure::Calls: return statistic.calls;
    case Measure::Temporary: return statistic.temporary;
    case Measure::Peak: return statistic.peak_size;
  }
  return 0;
}

std::vector<SiteStatistic> site_statistics(const Snapshot& snapshot, GroupBy group_by, Measure measure) {
  std::vector<SiteStatistic> result;
  for (auto& [key, statistic] : group(snapshot, group_by)) result.push_back(std::move(statistic));
  std::stable_sort(result.begin(), result.end(), [measure](const SiteStatistic& a, const SiteStatistic& b) {
    const auto a_value = measure_of(a, measure), b_value = measure_of(b, measure);
    if (a_value != b_value) return a_value > b_value;
    if (a.size != b.size) return a.size > b.size;
    return compare_tracebacks(a.traceback, b.traceback) > 0;  // statistics()'s final key, descending
  });
  return result;
}

std::vector<SiteStatisticDiff> compare_site_statistics(const Snapshot& newer, const Snapshot& older, GroupBy group_by,
                                                       Measure measure) {
  Groups new_groups = group(newer, group_by);
  Groups old_groups = group(older, group_by);
  std::vector<SiteStatisticDiff> result;
  for (auto& [key, now] : new_groups) {
    SiteStatisticDiff diff;
    diff.newer = now;
    if (auto before = old_groups.find(key); before != old_groups.end()) {
      diff.older = before->second;
      old_groups.erase(before);
    } else {
      diff.older.traceback = key;
    }
    result.push_back(std::move(diff));
  }
  for (auto& [key, before] : old_groups) {
    SiteStatisticDiff diff;
    diff.newer.traceback = key;
    diff.older = before;
    result.push_back(std::move(diff));
  }
  for (SiteStatisticDiff& diff : result)
    diff.difference = static_cast<std::int64_t>(measure_of(diff.newer, measure)) - static_cast<std::int64_t>(measure_of(diff.older, measure));
  std::stable_sort(result.begin(), result.end(), [measure](const SiteStatisticDiff& a, const SiteStatisticDiff& b) {
    if (magnitude(a.difference) != magnitude(b.difference)) return magnitude(a.difference) > magnitude(b.difference);
    const auto a_value = measure_of(a.newer, measure), b_value = measure_of(b.newer, measure);
    if (a_value != b_value) return a_value > b_value;
    return compare_tracebacks(a.newer.traceback, b.newer.traceback) > 0;
  });
  return result;
}

}  // namespace heapsnap
