#include "reporters/trend/trend_report.h"

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>

namespace heapsnap {

namespace {

bool taken_before(const NamedSnapshot& a, const NamedSnapshot& b) {
  return a.snapshot.process.unix_time_ms < b.snapshot.process.unix_time_ms;
}

}  // namespace

void order_series(std::vector<NamedSnapshot>& series) { std::stable_sort(series.begin(), series.end(), taken_before); }

std::size_t TrendReport::count(TrendClass trend_class) const {
  return static_cast<std::size_t>(std::count_if(
      sites.begin(), sites.end(), [&](const TrendSite& site) { return site.trend.trend_class == trend_class; }));
}

TrendReport build_trend_report(const std::vector<NamedSnapshot>& unordered, GroupBy group_by) {
  if (unordered.size() < kMinTrendPoints) throw std::invalid_argument("a trend needs at least 3 snapshots");
  std::vector<std::reference_wrapper<const NamedSnapshot>> series(unordered.begin(), unordered.end());
  std::stable_sort(series.begin(), series.end(), taken_before);
  TrendReport report;
  report.group_by = group_by;

  bool distinct_times = true;
  for (std::size_t i = 1; i < series.size(); ++i) {
    distinct_times = distinct_times &&
                     series[i].get().snapshot.process.unix_time_ms > series[i - 1].get().snapshot.process.unix_time_ms;
  }
  report.axis = distinct_times ? TrendAxis::Seconds : TrendAxis::Snapshots;
  const std::int64_t start_ms = series.front().get().snapshot.process.unix_time_ms;

  std::map<Traceback, TrendSite, TracebackLess> sites;
  std::vector<double> x;
  for (std::size_t index = 0; index < series.size(); ++index) {
    const NamedSnapshot& named = series[index].get();
    TrendPoint point{named.path, named.snapshot.process.unix_time_ms, named.snapshot.process.reason, 0, 0};
    point.x = distinct_times ? static_cast<double>(point.unix_time_ms - start_ms) / 1000.0 : static_cast<double>(index);
    for (const Statistic& statistic : statistics(named.snapshot, group_by)) {
      TrendSite& site = sites[statistic.traceback];
      if (site.sizes.empty()) {
        site.traceback = statistic.traceback;
        site.sizes.assign(series.size(), 0);
        site.counts.assign(series.size(), 0);
      }
      site.sizes[index] = statistic.size;
      site.counts[index] = statistic.count;
      point.size += statistic.size;
    }
    x.push_back(point.x);
    report.snapshots.push_back(std::move(point));
  }

  for (auto& [traceback, site] : sites) {
    site.trend = classify_trend(x, site.sizes);
    report.sites.push_back(std::move(site));
  }
  std::stable_sort(report.sites.begin(), report.sites.end(), [](const TrendSite& a, const TrendSite& b) {
    if (a.trend.trend_class != b.trend.trend_class) return a.trend.trend_class < b.trend.trend_class;
    const std::uint64_t moved_a = a.trend.max - a.trend.min, moved_b = b.trend.max - b.trend.min;
    if (moved_a != moved_b) return moved_a > moved_b;
    return a.sizes.back() > b.sizes.back();  // then traceback order: the map's, kept by stable_sort
  });
  return report;
}

}  // namespace heapsnap
