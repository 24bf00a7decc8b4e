// Statistics of what sites did (snapshot/site_statistics.h): groups keyed as statistics() keys them,
// the live memory of the traces beside the activity, each measure's order, and differences.

#include <catch2/catch.hpp>

#include "snapshot/site_statistics.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

// Two stacks end on parse.cpp:10 (one line, two callers); one on cache.cpp:20.
Snapshot activity_snapshot(std::uint64_t parse_calls) {
  Snapshot snapshot = SnapshotBuilder()
                          .add(0, 300, stack({frame("cache.cpp", 20, "keep"), frame("main.cpp", 1, "main")}), 3)
                          .add(0, 40, stack({frame("parse.cpp", 10, "token"), frame("main.cpp", 2, "main")}), 1)
                          .add(0, 0, stack({frame("parse.cpp", 10, "token"), frame("main.cpp", 3, "main")}), 0)
                          .build();
  snapshot.activity = {{TracebackIndex{0}, 3, 300, 0, 300, 3},
                       {TracebackIndex{1}, parse_calls, parse_calls * 40, parse_calls - 1, 40, 1},
                       {TracebackIndex{2}, parse_calls, parse_calls * 40, parse_calls, 0, 0}};
  snapshot.peak_view = PeakView{340};
  return snapshot;
}

}  // namespace

TEST_CASE("groups join the traces' live memory and the sites' activity under statistics()'s keys") {
  const auto by_line = site_statistics(activity_snapshot(100), GroupBy::Lineno, Measure::Calls);
  REQUIRE(by_line.size() == 2);
  CHECK(by_line[0].traceback.frames.front().filename == "parse.cpp");
  CHECK((by_line[0].calls == 200 && by_line[0].allocated_size == 8000 && by_line[0].temporary == 199));
  CHECK((by_line[0].size == 40 && by_line[0].count == 1 && by_line[0].peak_size == 40 && by_line[0].peak_count == 1));
  CHECK((by_line[1].calls == 3 && by_line[1].size == 300 && by_line[1].peak_size == 300));

  const auto by_stack = site_statistics(activity_snapshot(100), GroupBy::Traceback, Measure::Temporary);
  REQUIRE(by_stack.size() == 3);
  CHECK((by_stack[0].temporary == 100 && by_stack[0].traceback.frames.back().lineno == 3));
  CHECK((by_stack[1].temporary == 99 && by_stack[1].traceback.frames.back().lineno == 2));
}

TEST_CASE("each measure ranks the groups by its own value") {
  const Snapshot snapshot = activity_snapshot(100);
  auto first_file = [&](Measure measure) {
    return site_statistics(snapshot, GroupBy::Lineno, measure).front().traceback.frames.front().filename;
  };
  CHECK(first_file(Measure::Live) == "cache.cpp");
  CHECK(first_file(Measure::Allocated) == "parse.cpp");
  CHECK(first_file(Measure::Calls) == "parse.cpp");
  CHECK(first_file(Measure::Temporary) == "parse.cpp");
  CHECK(first_file(Measure::Peak) == "cache.cpp");
  CHECK(measure_name(Measure::Temporary) == "temporary");
}

TEST_CASE("differences are ranked by the change of the measure") {
  const auto diffs = compare_site_statistics(activity_snapshot(150), activity_snapshot(100), GroupBy::Lineno, Measure::Calls);
  REQUIRE(diffs.size() == 2);
  CHECK(diffs[0].newer.traceback.frames.front().filename == "parse.cpp");
  CHECK(diffs[0].difference == 100);
  CHECK((diffs[0].newer.calls == 300 && diffs[0].older.calls == 200));
  CHECK(diffs[1].difference == 0);

  Snapshot empty;
  const auto gone = compare_site_statistics(empty, activity_snapshot(100), GroupBy::Lineno, Measure::Allocated);
  REQUIRE(gone.size() == 2);
  CHECK((gone[0].difference == -8000 && gone[0].newer.calls == 0 && gone[0].older.calls == 200));
  CHECK(gone[0].newer.traceback.frames.front().filename == "parse.cpp");  // the key, kept for a gone group
}
