#pragma once
// The text "top" report, like tracemalloc's display_top recipe:
//   Top 10 lines
//   #1: src/widget.cpp:12 (make_widget): 12.3 KiB, count=3, average=4.1 KiB
//   ...
//   4 other: 1.2 KiB
//   Total allocated size: 14.5 KiB
// With GroupBy::Traceback each entry is followed by its whole stack, most recent frame first.

#include <vector>

#include "profiler/statistics.h"
#include "reporters/report_options.h"
#include "reporters/reporter.h"

namespace heapsnap {

class TopTextReporter final : public Reporter {
 public:
  // `statistics` as statistics() returns them: sorted, biggest first.
  TopTextReporter(std::vector<Statistic> statistics, StatisticsReportOptions options);
  void render(std::ostream& out) const override;

 private:
  std::vector<Statistic> statistics_;
  StatisticsReportOptions options_;
};

}  // namespace heapsnap
