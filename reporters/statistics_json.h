#pragma once
// JSON for statistics() and compare_to(): a list, in their order, of
//   {"traceback": [{"filename", "lineno", "function"}, ...most recent first], "size", "count"}
// with "size_diff" and "count_diff" added for differences. The list holds the first
// StatisticsReportOptions::limit entries (all when the limit is 0).

#include <vector>

#include "reporters/report_options.h"
#include "reporters/reporter.h"
#include "snapshot/statistics.h"

namespace heapsnap {

class StatisticsJsonReporter final : public Reporter {
 public:
  StatisticsJsonReporter(std::vector<Statistic> statistics, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<Statistic> statistics_;
  StatisticsReportOptions options_;
};

class DiffJsonReporter final : public Reporter {
 public:
  DiffJsonReporter(std::vector<StatisticDiff> differences, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<StatisticDiff> differences_;
  StatisticsReportOptions options_;
};

}  // namespace heapsnap
