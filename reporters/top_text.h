#pragma once
// The text "top" report, like tracemalloc's display_top recipe with each entry in the form of
// Statistic.__str__ (the key printed with its function, see frame_format.h):
//   Top 10 lines
//   #1: src/widget.cpp:12 (make_widget): size=12.3 KiB, count=3, average=4198 B
//   ...
//   4 other: size=1.2 KiB, count=7, average=176 B
//   Total allocated size: 14.5 KiB
// With GroupBy::Traceback each entry is followed by its whole stack, most recent frame first.

#include <vector>

#include "reporters/report_options.h"
#include "reporters/reporter.h"
#include "snapshot/statistics.h"

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
