// The statistics reporters: text top and diff reports, and their JSON.

#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "reporters/diff_text.h"
#include "reporters/frame_format.h"
#include "reporters/statistics_json.h"
#include "reporters/top_text.h"
#include "snapshot/statistics.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

std::string render(const Reporter& reporter) {
  std::ostringstream out;
  reporter.render(out);
  return out.str();
}

StatisticsReportOptions options(GroupBy group_by, std::size_t limit, bool cumulative = false) {
  StatisticsReportOptions result;
  result.group_by = group_by;
  result.limit = limit;
  result.cumulative = cumulative;
  return result;
}

}  // namespace

TEST_CASE("frames print as file:line (function)", "[reporters]") {
  CHECK(format_frame(frame("src/w.cpp", 12, "make_widget")) == "src/w.cpp:12 (make_widget)");
  CHECK(format_frame(frame("a.py", 2)) == "a.py:2");
  CHECK(format_frame(frame("/lib/libx.so", 0, "x_alloc")) == "/lib/libx.so (x_alloc)");
  CHECK(format_truncation(stack({frame("a.py", 1)}, 3)) == "... 2 older frames not captured");
  CHECK(format_truncation(stack({frame("a.py", 1)}, 1)).empty());
}

TEST_CASE("top report by line, like display_top", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const TopTextReporter reporter(statistics(snapshot, GroupBy::Lineno), options(GroupBy::Lineno, 2));
  CHECK(render(reporter) ==
        "Top 2 lines\n"
        "#1: b.py:1: size=66 B, count=1, average=66 B\n"
        "#2: a.py:2: size=30 B, count=3, average=10 B\n"
        "2 other: size=9 B, count=2, average=4 B\n"
        "Total allocated size: 105 B\n");
}

TEST_CASE("top report shows native functions and KiB sizes", "[reporters]") {
  const Snapshot snapshot = SnapshotBuilder()
                                .add(0, 12595, stack({frame("src/widget.cpp", 12, "make_widget")}), 3)
                                .add(0, 100, stack({frame("/lib/libx.so", 0, "x_alloc")}), 1)
                                .build();
  const TopTextReporter reporter(statistics(snapshot, GroupBy::Lineno), options(GroupBy::Lineno, 10));
  CHECK(render(reporter) ==
        "Top 2 lines\n"
        "#1: src/widget.cpp:12 (make_widget): size=12.3 KiB, count=3, average=4198 B\n"
        "#2: /lib/libx.so (x_alloc): size=100 B, count=1, average=100 B\n"
        "Total allocated size: 12.4 KiB\n");
}

TEST_CASE("top report by traceback prints the whole stack", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const TopTextReporter reporter(statistics(snapshot2, GroupBy::Traceback), options(GroupBy::Traceback, 0));
  CHECK(render(reporter) ==
        "Top 3 tracebacks\n"
        "#1: size=5002 B, count=2, average=2501 B\n"
        "    a.py:5\n"
        "    b.py:4\n"
        "    ... 1 older frame not captured\n"
        "#2: size=400 B, count=1, average=400 B\n"
        "    c.py:578\n"
        "#3: size=30 B, count=3, average=10 B\n"
        "    a.py:2\n"
        "    b.py:4\n"
        "    ... 1 older frame not captured\n"
        "Total allocated size: 5432 B\n");
}

TEST_CASE("cumulative top report has no meaningless total", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const std::string text =
      render(TopTextReporter(statistics(snapshot, GroupBy::Filename, true), options(GroupBy::Filename, 10, true)));
  CHECK_THAT(text, Catch::StartsWith("Top 3 files (cumulative"));
  CHECK_THAT(text, Catch::Contains("#1: b.py: size=98 B, count=5, average=20 B\n"));
  CHECK_THAT(text, !Catch::Contains("Total"));
}

TEST_CASE("an empty top report", "[reporters]") {
  CHECK(render(TopTextReporter({}, options(GroupBy::Lineno, 10))) == "Top 0 lines\nTotal allocated size: 0 B\n");
}

TEST_CASE("diff report in compare_to order, like StatisticDiff.__str__", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const DiffTextReporter reporter(compare_to(snapshot2, snapshot, GroupBy::Lineno), options(GroupBy::Lineno, 3));
  CHECK(render(reporter) ==
        "Top 3 differences by line\n"
        "#1: a.py:5: size=5002 B (+5000 B), count=2 (+1), average=2501 B\n"
        "#2: c.py:578: size=400 B (+400 B), count=1 (+1)" ", average=400 B\n"
        "#3: b.py:1: size=0 B (-66 B), count=0 (-1)\n"
        "2 other: size=30 B (-7 B), count=3 (-1), average=10 B\n"
        "Total: size=5432 B (+5327 B), count=6 (+0), average=905 B\n");
}

TEST_CASE("diff report by traceback prints stacks", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const std::string text =
      render(DiffTextReporter(compare_to(snapshot2, snapshot, GroupBy::Traceback), options(GroupBy::Traceback, 1)));
  CHECK_THAT(text, Catch::StartsWith("Top 1 difference by traceback\n"
                                     "#1: size=5002 B (+5000 B), count=2 (+1), average=2501 B\n"
                                     "    a.py:5\n"
                                     "    b.py:4\n"));
  CHECK_THAT(text, Catch::Contains("4 other: "));
}

TEST_CASE("statistics as JSON", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  std::ostringstream out;
  StatisticsJsonReporter(statistics(snapshot, GroupBy::Traceback), options(GroupBy::Traceback, 2)).render(out);
  const nlohmann::json list = nlohmann::json::parse(out.str());
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 2);  // the limit applies
  CHECK(list[0] == nlohmann::json::parse(R"({"traceback": [{"filename": "b.py", "lineno": 1, "function": ""}],
                                            "size": 66, "count": 1})"));
  CHECK(list[1]["traceback"] == nlohmann::json::parse(R"([{"filename": "a.py", "lineno": 2, "function": ""},
                                                          {"filename": "b.py", "lineno": 4, "function": ""}])"));
  CHECK(list[1]["size"] == 30);
  CHECK(list[1]["count"] == 3);
}

TEST_CASE("differences as JSON, every entry with limit 0", "[reporters]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  std::ostringstream out;
  DiffJsonReporter(compare_to(snapshot2, snapshot, GroupBy::Filename), options(GroupBy::Filename, 0)).render(out);
  const nlohmann::json list = nlohmann::json::parse(out.str());
  REQUIRE(list.size() == 4);
  CHECK(list[0] == nlohmann::json::parse(R"({"traceback": [{"filename": "a.py", "lineno": 0, "function": ""}],
                                            "size": 5032, "size_diff": 5000, "count": 5, "count_diff": 1})"));
  CHECK(list[2]["traceback"][0]["filename"] == "b.py");
  CHECK(list[2]["size"] == 0);
  CHECK(list[2]["size_diff"] == -66);
  CHECK(list[2]["count_diff"] == -1);
}

TEST_CASE("JSON reports survive names that are not UTF-8", "[reporters]") {
  const Snapshot snapshot = SnapshotBuilder().add(0, 1, stack({frame("bad\xff.c", 1)})).build();
  std::ostringstream out;
  StatisticsJsonReporter(statistics(snapshot, GroupBy::Lineno), options(GroupBy::Lineno, 10)).render(out);
  CHECK(nlohmann::json::parse(out.str())[0]["traceback"][0]["filename"] == "bad\xEF\xBF\xBD.c");
}
