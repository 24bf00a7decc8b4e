// statistics() and compare_to(), ported from CPython's test_tracemalloc (TestSnapshot) with the same
// expected numbers, plus what heapsnap adds: aggregated traces, native frames, empty stacks.

#include <catch2/catch.hpp>

#include <stdexcept>

#include "snapshot/statistics.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

Traceback lineno_key(const char* filename, std::uint32_t lineno) { return stack({frame(filename, lineno)}); }
Traceback filename_key(const char* filename) { return lineno_key(filename, 0); }

}  // namespace

TEST_CASE("statistics by line match tracemalloc", "[statistics]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  CHECK(statistics(snapshot, GroupBy::Lineno) == std::vector<Statistic>{
                                                     {lineno_key("b.py", 1), 66, 1},
                                                     {lineno_key("a.py", 2), 30, 3},
                                                     {lineno_key("<unknown>", 0), 7, 1},
                                                     {lineno_key("a.py", 5), 2, 1},
                                                 });
  CHECK(statistics(snapshot2, GroupBy::Lineno) == std::vector<Statistic>{
                                                      {lineno_key("a.py", 5), 5002, 2},
                                                      {lineno_key("c.py", 578), 400, 1},
                                                      {lineno_key("a.py", 2), 30, 3},
                                                  });
  CHECK(compare_to(snapshot2, snapshot, GroupBy::Lineno) == std::vector<StatisticDiff>{
                                                                {lineno_key("a.py", 5), 5002, 5000, 2, 1},
                                                                {lineno_key("c.py", 578), 400, 400, 1, 1},
                                                                {lineno_key("b.py", 1), 0, -66, 0, -1},
                                                                {lineno_key("<unknown>", 0), 0, -7, 0, -1},
                                                                {lineno_key("a.py", 2), 30, 0, 3, 0},
                                                            });
}

TEST_CASE("statistics by file match tracemalloc", "[statistics]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  CHECK(statistics(snapshot, GroupBy::Filename) == std::vector<Statistic>{
                                                       {filename_key("b.py"), 66, 1},
                                                       {filename_key("a.py"), 32, 4},
                                                       {filename_key("<unknown>"), 7, 1},
                                                   });
  CHECK(statistics(snapshot2, GroupBy::Filename) == std::vector<Statistic>{
                                                        {filename_key("a.py"), 5032, 5},
                                                        {filename_key("c.py"), 400, 1},
                                                    });
  CHECK(compare_to(snapshot2, snapshot, GroupBy::Filename) == std::vector<StatisticDiff>{
                                                                  {filename_key("a.py"), 5032, 5000, 5, 1},
                                                                  {filename_key("c.py"), 400, 400, 1, 1},
                                                                  {filename_key("b.py"), 0, -66, 0, -1},
                                                                  {filename_key("<unknown>"), 0, -7, 0, -1},
                                                              });
}

TEST_CASE("statistics by traceback match tracemalloc", "[statistics]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const Traceback tb1 = stack({frame("a.py", 2), frame("b.py", 4)});
  const Traceback tb2 = stack({frame("a.py", 5), frame("b.py", 4)});
  const Traceback tb3 = stack({frame("b.py", 1)});
  const Traceback tb4 = stack({frame("<unknown>", 0)});
  const Traceback tb5 = stack({frame("c.py", 578)});
  CHECK(statistics(snapshot, GroupBy::Traceback) == std::vector<Statistic>{
                                                        {tb3, 66, 1}, {tb1, 30, 3}, {tb4, 7, 1}, {tb2, 2, 1}});
  CHECK(statistics(snapshot2, GroupBy::Traceback) == std::vector<Statistic>{{tb2, 5002, 2}, {tb5, 400, 1}, {tb1, 30, 3}});
  CHECK(compare_to(snapshot2, snapshot, GroupBy::Traceback) == std::vector<StatisticDiff>{
                                                                   {tb2, 5002, 5000, 2, 1},
                                                                   {tb5, 400, 400, 1, 1},
                                                                   {tb3, 0, -66, 0, -1},
                                                                   {tb4, 0, -7, 0, -1},
                                                                   {tb1, 30, 0, 3, 0},
                                                               });
  // The key keeps the stack's real depth.
  CHECK(statistics(snapshot, GroupBy::Traceback)[1].traceback.total_nframe == 3);
  CHECK_THROWS_AS(statistics(snapshot, GroupBy::Traceback, true), std::invalid_argument);
  CHECK_THROWS_AS(compare_to(snapshot, snapshot, GroupBy::Traceback, true), std::invalid_argument);
}

TEST_CASE("cumulative statistics match tracemalloc", "[statistics]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  CHECK(statistics(snapshot, GroupBy::Filename, true) == std::vector<Statistic>{
                                                             {filename_key("b.py"), 98, 5},
                                                             {filename_key("a.py"), 32, 4},
                                                             {filename_key("<unknown>"), 7, 1},
                                                         });
  CHECK(statistics(snapshot, GroupBy::Lineno, true) == std::vector<Statistic>{
                                                           {lineno_key("b.py", 1), 66, 1},
                                                           {lineno_key("b.py", 4), 32, 4},
                                                           {lineno_key("a.py", 2), 30, 3},
                                                           {lineno_key("<unknown>", 0), 7, 1},
                                                           {lineno_key("a.py", 5), 2, 1},
                                                       });
}

TEST_CASE("cumulative mode counts every occurrence of a frame, as tracemalloc does", "[statistics]") {
  // Checked against CPython 3.11: Snapshot([(0, 10, (('a.py', 2), ('a.py', 2), ('a.py', 7)), 3)], 3)
  // gives a.py:2 size=20 count=2 and a.py:7 size=10 count=1; by file a.py size=30 count=3.
  const Snapshot recursive =
      SnapshotBuilder().add(0, 10, stack({frame("a.py", 2), frame("a.py", 2), frame("a.py", 7)})).build();
  CHECK(statistics(recursive, GroupBy::Lineno, true) ==
        std::vector<Statistic>{{lineno_key("a.py", 2), 20, 2}, {lineno_key("a.py", 7), 10, 1}});
  CHECK(statistics(recursive, GroupBy::Filename, true) == std::vector<Statistic>{{filename_key("a.py"), 30, 3}});
}

TEST_CASE("aggregated traces give the same statistics as one trace per block", "[statistics]") {
  const Traceback site = stack({frame("w.cpp", 3, "make")});
  const Snapshot per_block = SnapshotBuilder().add(0, 16, site).add(0, 16, site).add(1, 32, site).build();
  const Snapshot aggregated = SnapshotBuilder().add(0, 32, site, 2).add(1, 32, site, 1).build();
  for (GroupBy group_by : {GroupBy::Lineno, GroupBy::Filename, GroupBy::Traceback}) {
    CHECK(statistics(per_block, group_by) == statistics(aggregated, group_by));
  }
  CHECK(statistics(aggregated, GroupBy::Lineno) == std::vector<Statistic>{{site, 64, 3}});
}

TEST_CASE("native frames group by function as well as line", "[statistics]") {
  // Without line info two functions of one module are different lines; by file they merge.
  const Snapshot snapshot = SnapshotBuilder()
                                .add(0, 100, stack({frame("/lib/libx.so", 0, "x_alloc")}))
                                .add(0, 50, stack({frame("/lib/libx.so", 0, "x_dup")}))
                                .build();
  const auto by_line = statistics(snapshot, GroupBy::Lineno);
  REQUIRE(by_line.size() == 2);
  CHECK(by_line[0].traceback.frames[0].function == "x_alloc");
  const auto by_file = statistics(snapshot, GroupBy::Filename);
  REQUIRE(by_file.size() == 1);
  CHECK(by_file[0].size == 150);
  CHECK(by_file[0].traceback.frames[0].function.empty());
}

TEST_CASE("an empty stack is analysed as tracemalloc's <unknown>:0", "[statistics]") {
  const Snapshot snapshot = SnapshotBuilder().add(0, 5, Traceback{}).add(0, 7, stack({frame("<unknown>", 0)})).build();
  CHECK(statistics(snapshot, GroupBy::Lineno) == std::vector<Statistic>{{lineno_key("<unknown>", 0), 12, 2}});
  CHECK(statistics(snapshot, GroupBy::Filename) == std::vector<Statistic>{{filename_key("<unknown>"), 12, 2}});
  CHECK(statistics(snapshot, GroupBy::Traceback).size() == 1);
}

TEST_CASE("ties are broken by count, then by traceback compared oldest frame first", "[statistics]") {
  // Same size: the larger count first. Same size and count: the greater traceback first, where
  // tracebacks compare from their oldest frame (z.py:1 before a.py:9 although a < z at the top).
  const Traceback older_z = stack({frame("a.py", 9), frame("z.py", 1)});
  const Traceback older_a = stack({frame("z.py", 9), frame("a.py", 1)});
  const Snapshot snapshot =
      SnapshotBuilder().add(0, 10, older_a).add(0, 10, older_z).add(0, 5, stack({frame("m.py", 1)}), 2)
          .add(0, 5, stack({frame("n.py", 1)})).build();
  const auto result = statistics(snapshot, GroupBy::Traceback);
  REQUIRE(result.size() == 4);
  CHECK(result[0].traceback == older_z);
  CHECK(result[1].traceback == older_a);
  CHECK(result[2].traceback.frames[0].filename == "m.py");
  CHECK(result[3].traceback.frames[0].filename == "n.py");
  CHECK(std::is_lt(compare_tracebacks(older_a, older_z)));
  CHECK(std::is_lt(compare_tracebacks(stack({frame("a.py", 1)}), stack({frame("b.py", 1), frame("a.py", 1)}))));
}

TEST_CASE("compare_to sorts by |size_diff|, size, |count_diff|, count", "[statistics]") {
  const auto site = [](const char* name) { return stack({frame(name, 1)}); };
  const Snapshot older = SnapshotBuilder().add(0, 100, site("shrunk.py")).add(0, 10, site("same.py")).build();
  const Snapshot newer = SnapshotBuilder()
                             .add(0, 10, site("same.py"))
                             .add(0, 100, site("grown.py"), 1)
                             .add(0, 50, site("more_blocks.py"), 5)
                             .add(0, 50, site("fewer_blocks.py"), 2)
                             .build();
  const auto diffs = compare_to(newer, older, GroupBy::Lineno);
  REQUIRE(diffs.size() == 5);
  // |size_diff| 100 twice: grown (size 100) before shrunk (size 0).
  CHECK(diffs[0] == StatisticDiff{site("grown.py"), 100, 100, 1, 1});
  CHECK(diffs[1] == StatisticDiff{site("shrunk.py"), 0, -100, 0, -1});
  CHECK(diffs[2] == StatisticDiff{site("more_blocks.py"), 50, 50, 5, 5});
  CHECK(diffs[3] == StatisticDiff{site("fewer_blocks.py"), 50, 50, 2, 2});
  CHECK(diffs[4] == StatisticDiff{site("same.py"), 10, 0, 1, 0});
}

TEST_CASE("a trace naming a missing traceback is an error, not a crash", "[statistics]") {
  Snapshot snapshot = SnapshotBuilder().add(0, 1, stack({frame("a.py", 1)})).build();
  snapshot.traces[0].traceback = TracebackIndex{5};
  CHECK_THROWS_AS(statistics(snapshot, GroupBy::Lineno), std::out_of_range);
}
