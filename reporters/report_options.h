#pragma once
// Options shared by the statistics reporters (top, diff; text and JSON).

#include <cstddef>
#include <string>

#include "snapshot/statistics.h"

namespace heapsnap {

struct StatisticsReportOptions {
  GroupBy group_by = GroupBy::Lineno;  // how the statistics were grouped (titles and layout)
  bool cumulative = false;             // whether they were computed in cumulative mode
  std::size_t limit = 10;              // entries shown; the rest are summed on one "N other" line. 0: all
};

// What a group is called in titles: "line"/"lines", "file"/"files", "traceback"/"tracebacks".
inline std::string group_noun(GroupBy group_by, std::size_t n) {
  switch (group_by) {
    case GroupBy::Lineno: return n == 1 ? "line" : "lines";
    case GroupBy::Filename: return n == 1 ? "file" : "files";
    case GroupBy::Traceback: return n == 1 ? "traceback" : "tracebacks";
  }
  return {};
}

// How many of `total` entries a report shows.
inline std::size_t shown_entries(std::size_t total, const StatisticsReportOptions& options) {
  return options.limit == 0 || options.limit > total ? total : options.limit;
}

}  // namespace heapsnap
