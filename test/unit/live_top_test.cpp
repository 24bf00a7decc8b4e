// heapsnap top's table (reporters/live_top.h): growth and change from three readings of a process's
// per-site totals, the orders, and how rows are cut to a limit and a width.

#include <catch2/catch.hpp>

#include "reporters/live_top.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

const Traceback kCache = stack({frame("cache.cpp", 10, "remember"), frame("main.cpp", 3, "main")});
const Traceback kPool = stack({frame("pool.cpp", 20, "connect"), frame("main.cpp", 4, "main")});
const Traceback kSessions = stack({frame("sessions.cpp", 30, "open"), frame("main.cpp", 5, "main")});

// The cache grows by 1000 B a reading, the pool stays, the sessions shrink and are gone at the end.
Snapshot reading(std::uint64_t cache, std::uint64_t sessions) {
  SnapshotBuilder builder;
  builder.add(0, cache, kCache, cache / 100).add(0, 4000, kPool, 4);
  if (sessions != 0) builder.add(0, sessions, kSessions, sessions / 500);
  return builder.build();
}

}  // namespace

TEST_CASE("rows carry live bytes, the change since the last reading and the growth since the first") {
  const Snapshot first = reading(1000, 3000), previous = reading(2000, 1000), now = reading(3000, 0);
  const auto rows = live_top_rows(now, previous, first, GroupBy::Lineno, LiveTopOrder::Live);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].key.frames.front().filename == "pool.cpp");
  CHECK((rows[0].size == 4000 && rows[0].count == 4 && rows[0].change == 0 && rows[0].growth == 0));
  CHECK(rows[1].key.frames.front().filename == "cache.cpp");
  CHECK((rows[1].size == 3000 && rows[1].count == 30 && rows[1].change == 1000 && rows[1].growth == 2000));
  CHECK(rows[2].key.frames.front().filename == "sessions.cpp");  // gone: kept, with what it lost
  CHECK((rows[2].size == 0 && rows[2].count == 0 && rows[2].change == -1000 && rows[2].growth == -3000));
}

TEST_CASE("each order puts its biggest first, ties broken by live bytes") {
  const Snapshot first = reading(1000, 3000), previous = reading(2000, 1000), now = reading(3000, 500);
  auto top_file = [&](LiveTopOrder order) {
    return live_top_rows(now, previous, first, GroupBy::Lineno, order).front().key.frames.front().filename;
  };
  CHECK(top_file(LiveTopOrder::Live) == "pool.cpp");
  CHECK(top_file(LiveTopOrder::Growth) == "cache.cpp");
  CHECK(top_file(LiveTopOrder::Change) == "cache.cpp");
  CHECK(top_file(LiveTopOrder::Blocks) == "cache.cpp");  // 30 blocks of 100 B
  const auto by_change = live_top_rows(now, previous, first, GroupBy::Lineno, LiveTopOrder::Change);
  CHECK(by_change.back().key.frames.front().filename == "sessions.cpp");  // -500 B
}

TEST_CASE("the table: titles, rows up to the limit, the rest summed, lines cut to the width") {
  const Snapshot first = reading(1000, 3000), previous = reading(2000, 1000), now = reading(3000, 0);
  const auto rows = live_top_rows(now, previous, first, GroupBy::Lineno, LiveTopOrder::Live);
  const auto lines = format_live_top(rows, 1, 0, LiveTopOrder::Live);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "      LIVE    BLOCKS      CHANGE      GROWTH  WHERE");
  CHECK(lines[1] == "    4000 B         4        +0 B        +0 B  pool.cpp:20 (connect)");
  CHECK(lines[2] == "1 other: 3000 B in 30 blocks");  // the gone group is not a row when sorted by live

  const auto by_growth = format_live_top(live_top_rows(now, previous, first, GroupBy::Lineno, LiveTopOrder::Growth), 0, 0,
                                         LiveTopOrder::Growth);
  REQUIRE(by_growth.size() == 4);
  CHECK(by_growth[3] == "       0 B         0     -1000 B     -3000 B  sessions.cpp:30 (open)");

  const auto narrow = format_live_top(rows, 0, 50, LiveTopOrder::Live);
  for (const std::string& line : narrow) CHECK(line.size() <= 50);
  CHECK(narrow[1] == "    4000 B         4        +0 B        +0 B  pool");

  const auto stacks = format_live_top(live_top_rows(now, previous, first, GroupBy::Traceback, LiveTopOrder::Live), 1, 0,
                                      LiveTopOrder::Live);
  CHECK(stacks[1].ends_with("pool.cpp:20 (connect) < main.cpp:4 (main)"));
}
