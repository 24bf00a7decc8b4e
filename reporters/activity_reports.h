#pragma once
// `heapsnap stats --sort` and `diff --sort` for the measures beyond live memory (allocated, calls,
// temporary, peak: snapshot/site_statistics.h), in text and JSON:
//   Top 3 lines by bytes allocated
//   #1: src/parse.cpp:88 (tokenize): allocated=1.0 MiB in 1000 calls, temporary=1000, peak=0 B, live=0 B
//   ...
// JSON: the stats (and diff) entry with every measure: "calls", "allocated_size", "temporary",
// "peak_size", "peak_count" beside "size" and "count" (and "<field>_diff" for differences).

#include <cstdint>
#include <optional>
#include <vector>

#include "reporters/report_options.h"
#include "reporters/reporter.h"
#include "snapshot/site_statistics.h"

namespace heapsnap {

class ActivityTextReporter final : public Reporter {
 public:
  // `peak_view` and `traced_peak`: the snapshot's, on the last line.
  ActivityTextReporter(std::vector<SiteStatistic> statistics, Measure measure, StatisticsReportOptions options,
                       std::optional<PeakView> peak_view, std::uint64_t traced_peak);
  void render(std::ostream& out) const override;

 private:
  std::vector<SiteStatistic> statistics_;
  Measure measure_;
  StatisticsReportOptions options_;
  std::optional<PeakView> peak_view_;
  std::uint64_t traced_peak_;
};

class ActivityJsonReporter final : public Reporter {
 public:
  ActivityJsonReporter(std::vector<SiteStatistic> statistics, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<SiteStatistic> statistics_;
  StatisticsReportOptions options_;
};

class ActivityDiffTextReporter final : public Reporter {
 public:
  ActivityDiffTextReporter(std::vector<SiteStatisticDiff> differences, Measure measure, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<SiteStatisticDiff> differences_;
  Measure measure_;
  StatisticsReportOptions options_;
};

class ActivityDiffJsonReporter final : public Reporter {
 public:
  ActivityDiffJsonReporter(std::vector<SiteStatisticDiff> differences, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<SiteStatisticDiff> differences_;
  StatisticsReportOptions options_;
};

}  // namespace heapsnap
