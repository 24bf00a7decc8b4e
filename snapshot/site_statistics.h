#pragma once
// Statistics of what sites did, not only what they hold (issue 17): per group (GroupBy, as
// statistics()), the live memory of the traces together with the allocation activity of the
// snapshot's `activity` (calls, bytes allocated, temporary allocations, the part of the peak), ranked
// by one of these measures. tracemalloc's statistics() and compare_to() are unchanged; this is
// `heapsnap stats --sort` and `diff --sort` for every measure but live.

#include <cstdint>
#include <string_view>
#include <vector>

#include "snapshot/snapshot.h"
#include "snapshot/statistics.h"

namespace heapsnap {

enum class Measure { Live, Allocated, Calls, Temporary, Peak };

// Its name on the command line and in JSON: live, allocated, calls, temporary, peak.
std::string_view measure_name(Measure measure);

struct SiteStatistic {
  Traceback traceback;  // group key
  std::uint64_t size = 0;  // live bytes (the traces)
  std::uint64_t count = 0;  // live blocks
  std::uint64_t calls = 0;
  std::uint64_t allocated_size = 0;
  std::uint64_t temporary = 0;
  std::uint64_t peak_size = 0;
  std::uint64_t peak_count = 0;
};

// The value a group is ranked by: live bytes, bytes allocated, calls, temporary allocations or
// bytes at the peak.
std::uint64_t measure_of(const SiteStatistic& statistic, Measure measure);

// Every group with live memory or activity, biggest first by `measure`, then by live bytes, then by
// traceback as statistics() orders them.
std::vector<SiteStatistic> site_statistics(const Snapshot& snapshot, GroupBy group_by, Measure measure);

struct SiteStatisticDiff {
  SiteStatistic newer;  // zero but the key when the group is gone
  SiteStatistic older;  // zero but the key when the group is new
  std::int64_t difference = 0;  // of `measure`, newer minus older
};

// The groups of both snapshots matched by key, biggest change of `measure` first (its magnitude),
// then by the newer value.
std::vector<SiteStatisticDiff> compare_site_statistics(const Snapshot& newer, const Snapshot& older, GroupBy group_by,
                                                       Measure measure);

}  // namespace heapsnap
