// tracemalloc's text forms: str() of Frame, Traceback, Trace, Statistic, StatisticDiff and
// Traceback.format(), ported from CPython's test_tracemalloc (TestSnapshot.test_trace_format,
// test_statistic_format, test_statistic_diff_format, test_format_traceback) with the same expected
// strings. test/conformance checks the same forms against CPython on random snapshots.

#include <catch2/catch.hpp>

#include "snapshot/text_forms.h"
#include "test/support/snapshot_factory.h"
#include "test/support/temp_directory.h"

using namespace heapsnap;
using namespace heapsnap::test;
using Lines = std::vector<std::string>;

TEST_CASE("str of a trace, its traceback and frame", "[text_forms]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const Trace& trace = snapshot.traces[0];
  CHECK(to_string(snapshot, trace) == "b.py:4: 10 B");
  const Traceback& traceback = snapshot.traceback_of(trace);
  CHECK(to_string(traceback) == "b.py:4");  // the oldest frame, as in Python
  CHECK(to_string(traceback.frames.back()) == "b.py:4");
  CHECK(to_string(frame("<unknown>", 0)) == "<unknown>:0");
  CHECK(to_string(Traceback{}) == "<unknown>:0");
}

TEST_CASE("str of a Statistic", "[text_forms]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const std::vector<Statistic> stats = statistics(snapshot, GroupBy::Lineno);
  CHECK(to_string(stats[0]) == "b.py:1: size=66 B, count=1, average=66 B");
  CHECK(to_string(Statistic{stack({frame("a.py", 1)}), 0, 0}) == "a.py:1: size=0 B, count=0");
}

TEST_CASE("str of a StatisticDiff", "[text_forms]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const std::vector<StatisticDiff> stats = compare_to(snapshot2, snapshot, GroupBy::Lineno);
  CHECK(to_string(stats[0]) == "a.py:5: size=5002 B (+5000 B), count=2 (+1), average=2501 B");
  CHECK(to_string(stats[2]) == "b.py:1: size=0 B (-66 B), count=0 (-1)");
  CHECK(to_string(stats[4]) == "a.py:2: size=30 B (+0 B), count=3 (+0), average=10 B");
}

TEST_CASE("Traceback.format with limits and order", "[text_forms]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const GetLine getline = [](const std::string& filename, std::uint32_t lineno) {
    return "  <" + filename + ", " + std::to_string(lineno) + ">";
  };
  const Traceback& tb = snapshot.traceback_of(snapshot.traces[0]);
  CHECK(format_traceback(tb, std::nullopt, false, getline) ==
        Lines{"  File \"b.py\", line 4", "    <b.py, 4>", "  File \"a.py\", line 2", "    <a.py, 2>"});
  CHECK(format_traceback(tb, 1, false, getline) == Lines{"  File \"a.py\", line 2", "    <a.py, 2>"});
  CHECK(format_traceback(tb, -1, false, getline) == Lines{"  File \"b.py\", line 4", "    <b.py, 4>"});
  CHECK(format_traceback(tb, std::nullopt, true, getline) ==
        Lines{"  File \"a.py\", line 2", "    <a.py, 2>", "  File \"b.py\", line 4", "    <b.py, 4>"});
  CHECK(format_traceback(tb, 1, true, getline) == Lines{"  File \"a.py\", line 2", "    <a.py, 2>"});
  CHECK(format_traceback(tb, -1, true, getline) == Lines{"  File \"b.py\", line 4", "    <b.py, 4>"});
}

TEST_CASE("Traceback.format slices like Python for every limit", "[text_forms]") {
  // Frames oldest first are o.py:1, m.py:2, r.py:3 (r.py:3 the most recent).
  const Traceback tb = stack({frame("r.py", 3), frame("m.py", 2), frame("o.py", 1)});
  const GetLine no_source = [](const std::string&, std::uint32_t) { return std::string(); };
  const auto files = [&](std::optional<std::int64_t> limit) {
    std::string names;
    for (const std::string& line : format_traceback(tb, limit, false, no_source)) names += line.substr(8, 4) + " ";
    return names;
  };
  CHECK(files(std::nullopt) == "o.py m.py r.py ");
  CHECK(files(2) == "m.py r.py ");
  CHECK(files(7) == "o.py m.py r.py ");
  CHECK(files(0).empty());
  CHECK(files(-1) == "o.py m.py ");  // frames[:-1]: all but the most recent
  CHECK(files(-2) == "o.py ");
  CHECK(files(-3).empty());
  CHECK(files(-9).empty());
}

TEST_CASE("Traceback.format reads source lines like linecache", "[text_forms]") {
  const TempDirectory directory;
  const std::string source = (directory / "alloc.py").string();
  heapsnap::test::write_text_file(source, "import os\n\n   data = b'x' * 100  \t\n");
  const Traceback tb = stack({frame(source, 3), frame(source, 2), frame("<unknown>", 0), frame(source, 9)});
  LineCache lines;
  CHECK(format_traceback(tb, std::nullopt, true, lines) ==
        Lines{"  File \"" + source + "\", line 3", "    data = b'x' * 100", "  File \"" + source + "\", line 2",
              "  File \"<unknown>\", line 0", "  File \"" + source + "\", line 9"});
  CHECK(format_traceback(Traceback{}) == Lines{"  File \"<unknown>\", line 0"});
}
