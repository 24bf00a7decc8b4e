#pragma once
// A series of snapshots of one program, per allocation site: the site's live size in each, and how it
// moved (trend_classifier.h). What `heapsnap trend` prints and `check --max-growth` gates on.

#include <cstdint>
#include <string>
#include <vector>

#include "reporters/trend/trend_classifier.h"
#include "snapshot/snapshot.h"
#include "snapshot/statistics.h"

namespace heapsnap {

struct NamedSnapshot {
  std::string path;  // as given on the command line
  Snapshot snapshot;
};

// Puts a series in time order: by process.unix_time_ms, snapshots taken at the same millisecond (or
// without a time, 0) in the order given. A stable sort.
void order_series(std::vector<NamedSnapshot>& series);

// Where the snapshots sit on the x axis: seconds since the first, when their times are all different;
// otherwise (equal or missing times) their numbers 0, 1, 2, ...
enum class TrendAxis { Seconds, Snapshots };

struct TrendPoint {
  std::string path;
  std::int64_t unix_time_ms = 0;
  std::string reason;       // process.reason: "interval", "signal", "exit", ...
  double x = 0;             // position on the axis
  std::uint64_t size = 0;   // live bytes of all its traces
};

struct TrendSite {
  Traceback traceback;               // group key (GroupBy)
  std::vector<std::uint64_t> sizes;  // live bytes in each snapshot of the series, 0 where absent
  std::vector<std::uint64_t> counts; // live blocks
  SiteTrend trend;
};

struct TrendReport {
  GroupBy group_by = GroupBy::Lineno;
  TrendAxis axis = TrendAxis::Seconds;
  std::vector<TrendPoint> snapshots;  // in time order
  // Every site of any snapshot, ranked: by class (growing, plateau, churn, shrinking, stable), then by
  // how far it moved (max - min) and its last size, biggest first, then by traceback.
  std::vector<TrendSite> sites;

  std::size_t count(TrendClass trend_class) const;
};

// `series` in any order (put in time order as order_series does); at least kMinTrendPoints snapshots
// (std::invalid_argument otherwise).
TrendReport build_trend_report(const std::vector<NamedSnapshot>& series, GroupBy group_by);

}  // namespace heapsnap
