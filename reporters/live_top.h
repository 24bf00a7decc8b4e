#pragma once
// heapsnap top's table: the groups of a running process's per-site totals (grouped as `stats --by`
// groups them), each with what it gained over the last refresh and since top began.
//
//       LIVE    BLOCKS      CHANGE      GROWTH  WHERE
//    5.2 MiB      1200     +64 KiB    +1.2 MiB  src/cache.cpp:42 (remember)
//    ...
//    12 other: 3.1 KiB in 40 blocks
//
// LIVE is also a group's growth since tracing began: every traced block was allocated after it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"
#include "snapshot/statistics.h"

namespace heapsnap {

enum class LiveTopOrder { Live, Growth, Change, Blocks };

struct LiveTopRow {
  Traceback key;              // the group (see GroupBy)
  std::uint64_t size = 0;     // live bytes now
  std::uint64_t count = 0;    // live blocks now
  std::int64_t change = 0;    // bytes gained since the previous refresh
  std::int64_t growth = 0;    // bytes gained since the first refresh
};

// Every group of `now`, and those of `previous` or `first` that are gone (size 0), biggest first by
// `order`; ties by live bytes, then by key, so that the order is stable from one refresh to the next.
std::vector<LiveTopRow> live_top_rows(const Snapshot& now, const Snapshot& previous, const Snapshot& first,
                                      GroupBy group_by, LiveTopOrder order);

// The column titles, the first `limit` rows (0: every row) and a line summing the rest, each line at
// most `width` characters (0: no limit): WHERE is cut to fit. Groups that are gone show only in the
// orders of change and growth.
std::vector<std::string> format_live_top(const std::vector<LiveTopRow>& rows, std::size_t limit, std::size_t width,
                                         LiveTopOrder order);

}  // namespace heapsnap
