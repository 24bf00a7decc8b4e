#pragma once
// The text report of compare_to(): one line per group, in compare_to's order, in the shape of
// tracemalloc's StatisticDiff.__str__:
//   #1: src/cache.cpp:40 (Cache::put): size=4.9 KiB (+4.9 KiB), count=2 (+1), average=2.4 KiB
// followed by the stack for GroupBy::Traceback, an "N other" line and the totals.

#include <vector>

#include "reporters/report_options.h"
#include "reporters/reporter.h"
#include "snapshot/statistics.h"

namespace heapsnap {

class DiffTextReporter final : public Reporter {
 public:
  // `differences` as compare_to() returns them: sorted, biggest change first.
  DiffTextReporter(std::vector<StatisticDiff> differences, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<StatisticDiff> differences_;
  StatisticsReportOptions options_;
};

}  // namespace heapsnap
