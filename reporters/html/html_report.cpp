#include "reporters/html/html_report.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "snapshot/site_statistics.h"

namespace heapsnap {
namespace {

SeriesPoint point_of(const ReportInput& input) {
  const Snapshot& snapshot = input.snapshot;
  SeriesPoint point;
  point.path = input.path;
  point.reason = snapshot.process.reason;
  point.unix_time_ms = snapshot.process.unix_time_ms;
  point.traced_current = snapshot.traced_current;
  point.traced_peak = snapshot.traced_peak;
  point.sampling_rate = snapshot.sampling_rate;
  point.traceback_limit = snapshot.traceback_limit;
  point.leak_analysis = snapshot.leak_analysis;
  return point;
}

HeapView view_of(const Snapshot& snapshot, std::size_t index, FrameTable& frames) {
  HeapView view;
  view.snapshot = index;
  view.tree = build_flame_tree(snapshot, frames);
  view.sites = statistics(snapshot, GroupBy::Lineno);
  view.total_sites = view.sites.size();
  if (view.sites.size() > kMaxListedSites) view.sites.resize(kMaxListedSites);
  return view;
}

// The last snapshot's activity as a snapshot of its own whose traces weigh `measure` (and count the
// calls, or the blocks at the peak): what the flame tree and the site list of an activity view draw.
Snapshot activity_as_traces(const Snapshot& snapshot, Measure measure) {
  Snapshot weighed;
  weighed.tracebacks = snapshot.tracebacks;
  weighed.traceback_limit = snapshot.traceback_limit;
  for (const SiteActivity& site : snapshot.activity) {
    SiteStatistic values;
    values.calls = site.calls;
    values.allocated_size = site.allocated_size;
    values.temporary = site.temporary;
    values.peak_size = site.peak_size;
    const std::uint64_t weight = measure_of(values, measure);
    if (weight == 0) continue;
    Trace trace;
    trace.traceback = site.traceback;
    trace.size = weight;
    trace.count = measure == Measure::Peak ? site.peak_count : measure == Measure::Allocated ? site.calls : weight;
    weighed.traces.push_back(trace);
  }
  return weighed;
}

std::string default_title(const std::vector<std::string>& argv) {
  if (argv.empty()) return "heapsnap report";
  return "heapsnap report: " + std::filesystem::path(argv.front()).filename().string();
}

}  // namespace

HtmlReport build_html_report(std::vector<ReportInput> inputs, std::string title) {
  if (inputs.empty()) throw std::invalid_argument("no snapshots to report on");
  std::stable_sort(inputs.begin(), inputs.end(), [](const ReportInput& a, const ReportInput& b) {
    return a.snapshot.process.unix_time_ms < b.snapshot.process.unix_time_ms;
  });

  HtmlReport report;
  for (const ReportInput& input : inputs) report.series.push_back(point_of(input));
  report.end = inputs.size() - 1;
  const auto by_current = [](const SeriesPoint& a, const SeriesPoint& b) { return a.traced_current < b.traced_current; };
  report.peak = static_cast<std::size_t>(std::max_element(report.series.begin(), report.series.end(), by_current) -
                                         report.series.begin());

  const Snapshot& last = inputs.back().snapshot;
  report.argv = last.process.argv;
  report.title = title.empty() ? default_title(report.argv) : std::move(title);

  report.views.push_back(view_of(inputs[report.peak].snapshot, report.peak, report.frames));
  if (report.peak != report.end) {
    report.views.push_back(view_of(last, report.end, report.frames));
    report.end_view = 1;
  }

  if (!last.activity.empty()) {
    for (Measure measure : {Measure::Peak, Measure::Allocated, Measure::Calls, Measure::Temporary}) {
      HeapView view = view_of(activity_as_traces(last, measure), report.end, report.frames);
      view.measure = std::string(measure_name(measure));
      report.views.push_back(std::move(view));
    }
  }

  const auto analysed = std::find_if(inputs.rbegin(), inputs.rend(),
                                     [](const ReportInput& input) { return input.snapshot.leak_analysis; });
  if (analysed != inputs.rend()) {
    report.leaks_snapshot = static_cast<std::size_t>(inputs.rend() - analysed) - 1;
    report.leaks = build_leak_report(analysed->snapshot, analysed->path, GateThresholds{});
    report.total_leak_sites = report.leaks->leaks.size();
    if (report.leaks->leaks.size() > kMaxListedSites) report.leaks->leaks.resize(kMaxListedSites);
  }
  return report;
}

}  // namespace heapsnap
