#pragma once
// `heapsnap trend` as text: what the series is, how many sites of each class, then a table of the
// ranked sites (class, first → last size, slope, site); with --by traceback each site's whole stack.
//
//   Trend of 12 snapshots by line, 0 s to 1.4 s: svc.snap-1.json ... svc.snap-12.json
//   1 growing, 1 plateau, 2 churn, 0 shrinking, 9 stable
//
//    #  class    first → last       slope        site
//    1  growing  5120 B → 60.0 KiB  +41.3 KiB/s  samples/service.cpp:41 (remember)

#include <cstddef>

#include "reporters/reporter.h"
#include "reporters/trend/trend_report.h"

namespace heapsnap {

class TrendTextReporter final : public Reporter {
 public:
  // `limit`: sites shown, the others counted on one line; 0 shows all.
  TrendTextReporter(TrendReport report, std::size_t limit) : report_(std::move(report)), limit_(limit) {}
  void render(std::ostream& out) const override;

 private:
  TrendReport report_;
  std::size_t limit_;
};

// "+41.3 KiB/s", or "+2 B/snapshot" on the snapshot axis.
std::string format_slope(double slope, TrendAxis axis);

}  // namespace heapsnap
