#pragma once
// Options shared by the statistics reporters (top, diff; text and JSON).

#include <cstddef>

#include "snapshot/statistics.h"

namespace heapsnap {

struct StatisticsReportOptions {
  GroupBy group_by = GroupBy::Lineno;  // how the statistics were grouped (titles and layout)
  bool cumulative = false;             // whether they were computed in cumulative mode
  std::size_t limit = 10;              // entries shown; the rest are summed on one "N other" line. 0: all
};

// How many of `total` entries a report shows.
inline std::size_t shown_entries(std::size_t total, const StatisticsReportOptions& options) {
  return options.limit == 0 || options.limit > total ? total : options.limit;
}

}  // namespace heapsnap
