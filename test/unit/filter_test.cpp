// Filter, DomainFilter, filter_traces() and fnmatch, ported from CPython's test_tracemalloc
// (TestSnapshot.test_filter_traces*, TestFilters) with the same expectations.

#include <catch2/catch.hpp>

#include "snapshot/statistics.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

// The traces of a snapshot as (domain, size, first frame "file:line") for compact comparisons.
std::vector<std::tuple<DomainId, std::uint64_t, std::string>> summary(const Snapshot& snapshot) {
  std::vector<std::tuple<DomainId, std::uint64_t, std::string>> rows;
  for (const Trace& trace : snapshot.traces) {
    const Frame& top = snapshot.traceback_of(trace).frames.front();
    rows.emplace_back(trace.domain, trace.size, top.filename + ":" + std::to_string(top.lineno));
  }
  return rows;
}

Filter make_filter(bool inclusive, std::string pattern, std::optional<std::uint32_t> lineno = std::nullopt,
                   bool all_frames = false, std::optional<DomainId> domain = std::nullopt) {
  Filter filter;
  filter.inclusive = inclusive;
  filter.filename_pattern = std::move(pattern);
  filter.lineno = lineno;
  filter.all_frames = all_frames;
  filter.domain = domain;
  return filter;
}

bool match_frame(bool inclusive, const std::string& pattern, const std::string& filename, std::uint32_t lineno,
                 std::optional<std::uint32_t> filter_lineno = std::nullopt) {
  return frame_matches(make_filter(inclusive, pattern, filter_lineno), frame(filename, lineno));
}

using Rows = std::vector<std::tuple<DomainId, std::uint64_t, std::string>>;

}  // namespace

TEST_CASE("filter_traces excludes and includes by file and line", "[filter]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const Snapshot original = snapshot;

  const Snapshot snapshot3 = filter_traces(snapshot, {make_filter(false, "b.py")});
  CHECK(summary(snapshot3) == Rows{{0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {1, 2, "a.py:5"},
                                   {3, 7, "<unknown>:0"}});
  CHECK(summary(snapshot) == summary(original));  // the original is untouched

  const Snapshot snapshot4 = filter_traces(snapshot3, {make_filter(true, "a.py", 2), make_filter(true, "a.py", 5)});
  CHECK(summary(snapshot4) == Rows{{0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {1, 2, "a.py:5"}});

  const Snapshot copy = filter_traces(snapshot, {});
  CHECK(summary(copy) == summary(snapshot));
  CHECK(copy.traceback_limit == snapshot.traceback_limit);
  CHECK(copy.tracebacks.size() == snapshot.tracebacks.size());
}

TEST_CASE("filter_traces with a domain on a Filter", "[filter]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  const Rows expected{{0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {2, 66, "b.py:1"}, {3, 7, "<unknown>:0"}};
  // Exclude a.py of domain 1.
  CHECK(summary(filter_traces(snapshot, {make_filter(false, "a.py", std::nullopt, false, 1)})) == expected);
  // Include a.py of domain 1 only.
  CHECK(summary(filter_traces(snapshot, {make_filter(true, "a.py", std::nullopt, false, 1)})) == Rows{{1, 2, "a.py:5"}});
}

TEST_CASE("filter_traces with DomainFilter", "[filter]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  CHECK(summary(filter_traces(snapshot, {DomainFilter{false, 3}})) ==
        Rows{{0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {1, 2, "a.py:5"}, {2, 66, "b.py:1"}});
  CHECK(summary(filter_traces(snapshot, {DomainFilter{true, 3}})) == Rows{{3, 7, "<unknown>:0"}});
}

TEST_CASE("inclusive filters are OR'ed, exclusive filters AND'ed", "[filter]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  // Domain 0 or domain 2, then not b.py:1.
  const Snapshot filtered =
      filter_traces(snapshot, {DomainFilter{true, 0}, DomainFilter{true, 2}, make_filter(false, "b.py", 1)});
  CHECK(summary(filtered) == Rows{{0, 10, "a.py:2"}, {0, 10, "a.py:2"}, {0, 10, "a.py:2"}});
  // Every exclusive filter must let a trace through.
  CHECK(summary(filter_traces(snapshot, {make_filter(false, "a.py"), make_filter(false, "<unknown>")})) ==
        Rows{{2, 66, "b.py:1"}});
}

TEST_CASE("Filter matches a frame by file and optional line", "[filter]") {
  // Without line number.
  CHECK(match_frame(true, "abc", "abc", 0));
  CHECK(match_frame(true, "abc", "abc", 5));
  CHECK_FALSE(match_frame(true, "abc", "12356", 0));
  CHECK_FALSE(match_frame(false, "abc", "abc", 5));
  CHECK(match_frame(false, "abc", "12356", 10));
  CHECK(match_frame(true, "abc", "abc", 10));
  CHECK_FALSE(match_frame(true, "abc", "12356", 5));
  CHECK_FALSE(match_frame(true, "abc", "12356", 10));
  CHECK_FALSE(match_frame(false, "abc", "abc", 0));
  CHECK_FALSE(match_frame(false, "abc", "abc", 10));
  CHECK(match_frame(false, "abc", "12356", 0));
  CHECK(match_frame(false, "abc", "12356", 5));
  // Line number > 0.
  CHECK_FALSE(match_frame(true, "abc", "abc", 0, 5));
  CHECK(match_frame(true, "abc", "abc", 5, 5));
  CHECK_FALSE(match_frame(true, "abc", "abc", 10, 5));
  CHECK_FALSE(match_frame(true, "abc", "12356", 5, 5));
  CHECK(match_frame(false, "abc", "abc", 0, 5));
  CHECK_FALSE(match_frame(false, "abc", "abc", 5, 5));
  CHECK(match_frame(false, "abc", "12356", 5, 5));
  CHECK(match_frame(false, "abc", "abc", 10, 5));
  CHECK(match_frame(false, "abc", "12356", 0, 5));
  CHECK(match_frame(false, "abc", "12356", 10, 5));
  // Line number 0 is a line like any other.
  CHECK(match_frame(true, "abc", "abc", 0, 0));
  CHECK_FALSE(match_frame(true, "abc", "abc", 5, 0));
  CHECK_FALSE(match_frame(false, "abc", "abc", 0, 0));
  CHECK(match_frame(false, "abc", "abc", 5, 0));
  CHECK_FALSE(match_frame(true, "abc", "abc", 10, 0));
  CHECK_FALSE(match_frame(true, "abc", "12356", 0, 0));
  CHECK(match_frame(false, "abc", "abc", 10, 0));
  CHECK(match_frame(false, "abc", "12356", 0, 0));
  // File names.
  CHECK_FALSE(match_frame(true, "abc", "<unknown>", 0));
  CHECK(match_frame(false, "abc", "<unknown>", 0));
}

TEST_CASE("fnmatch follows Python's rules", "[filter]") {
  // CPython test_filter_match_filename_joker.
  CHECK_FALSE(fnmatch("abc", ""));
  CHECK_FALSE(fnmatch("", "abc"));
  CHECK(fnmatch("", ""));
  CHECK(fnmatch("", "*"));
  CHECK(fnmatch("abc", "abc"));
  CHECK_FALSE(fnmatch("abc", "abcd"));
  CHECK_FALSE(fnmatch("abc", "def"));
  CHECK(fnmatch("abc", "a*"));
  CHECK(fnmatch("abc", "abc*"));
  CHECK_FALSE(fnmatch("abc", "b*"));
  CHECK_FALSE(fnmatch("abc", "abcd*"));
  CHECK(fnmatch("abc", "a*c"));
  CHECK(fnmatch("abcdcx", "a*cx"));
  CHECK_FALSE(fnmatch("abb", "a*c"));
  CHECK_FALSE(fnmatch("abcdce", "a*cx"));
  CHECK(fnmatch("abcde", "a*c*e"));
  CHECK(fnmatch("abcbdefeg", "a*bd*eg"));
  CHECK_FALSE(fnmatch("abcdd", "a*c*e"));
  CHECK_FALSE(fnmatch("abcbdefef", "a*bd*eg"));
  CHECK_FALSE(fnmatch("aBC", "ABc"));  // case-sensitive, as on POSIX
  CHECK_FALSE(fnmatch("a/b", "a\\b"));
  CHECK_FALSE(fnmatch("aBcDe", "Ab*dE"));
  CHECK_FALSE(fnmatch("a\\b", "a/b"));
  CHECK_FALSE(fnmatch("a/b\\c", "a\\b/c"));
  CHECK_FALSE(fnmatch("a/b/c", "a\\b\\c"));
  // '*' crosses '/', '?' is one character (one code point, not one byte).
  CHECK(fnmatch("/usr/include/c++/12/bits/vector.tcc", "/usr/*"));
  CHECK(fnmatch("src/a/b/c.cpp", "*.cpp"));
  CHECK(fnmatch("é.c", "?.c"));
  CHECK_FALSE(fnmatch("ab.c", "?.c"));
  // Sets: ranges, negation, ']' first, a trailing '-', an unclosed '[' taken literally, empty ranges.
  CHECK(fnmatch("b", "[a-c]"));
  CHECK_FALSE(fnmatch("d", "[a-c]"));
  CHECK(fnmatch("d", "[!a-c]"));
  CHECK(fnmatch("]", "[]]"));
  CHECK(fnmatch("-", "[a-]"));
  CHECK(fnmatch("[x", "[x"));
  CHECK_FALSE(fnmatch("a", "[z-a]"));
  CHECK(fnmatch("a", "[!z-a]"));
  // Pathological patterns stay fast (no exponential backtracking).
  CHECK_FALSE(fnmatch(std::string(5000, 'a'), std::string(200, '*') + "b"));
}

TEST_CASE("a .pyc file counts as its .py source", "[filter]") {
  CHECK(match_frame(true, "a.py", "a.pyc", 0));
  CHECK(match_frame(true, "a.pyc", "a.py", 0));
  CHECK_FALSE(match_frame(true, "a.py", "a.pyo", 0));
  CHECK_FALSE(match_frame(true, "a.PY", "a.pyc", 0));  // case-sensitive, as on POSIX
  CHECK_FALSE(match_frame(true, "a.PYC", "a.py", 0));
}

TEST_CASE("Filter on the most recent frame or on all frames", "[filter]") {
  // CPython test_filter_match_trace.
  const Traceback t1 = stack({frame("a.py", 2), frame("b.py", 3)});
  const Traceback t2 = stack({frame("b.py", 4), frame("b.py", 5)});
  const Traceback t3 = stack({frame("c.py", 5), frame("<unknown>", 0)});
  const Traceback unknown = stack({frame("<unknown>", 0)});

  Filter filter = make_filter(true, "b.py", std::nullopt, true);
  CHECK(traceback_matches(filter, t1));
  CHECK(traceback_matches(filter, t2));
  CHECK_FALSE(traceback_matches(filter, t3));
  CHECK_FALSE(traceback_matches(filter, unknown));

  filter = make_filter(true, "b.py", std::nullopt, false);
  CHECK_FALSE(traceback_matches(filter, t1));
  CHECK(traceback_matches(filter, t2));
  CHECK_FALSE(traceback_matches(filter, t3));
  CHECK_FALSE(traceback_matches(filter, unknown));

  filter = make_filter(false, "b.py", std::nullopt, true);
  CHECK_FALSE(traceback_matches(filter, t1));
  CHECK_FALSE(traceback_matches(filter, t2));
  CHECK(traceback_matches(filter, t3));
  CHECK(traceback_matches(filter, unknown));

  filter = make_filter(false, "b.py", std::nullopt, false);
  CHECK(traceback_matches(filter, t1));
  CHECK_FALSE(traceback_matches(filter, t2));
  CHECK(traceback_matches(filter, t3));
  CHECK(traceback_matches(filter, unknown));

  filter = make_filter(false, "<unknown>", std::nullopt, false);
  CHECK(traceback_matches(filter, t1));
  CHECK(traceback_matches(filter, t2));
  CHECK(traceback_matches(filter, t3));
  CHECK_FALSE(traceback_matches(filter, unknown));

  filter = make_filter(true, "<unknown>", std::nullopt, true);
  CHECK_FALSE(traceback_matches(filter, t1));
  CHECK_FALSE(traceback_matches(filter, t2));
  CHECK(traceback_matches(filter, t3));
  CHECK(traceback_matches(filter, unknown));

  filter = make_filter(false, "<unknown>", std::nullopt, true);
  CHECK(traceback_matches(filter, t1));
  CHECK(traceback_matches(filter, t2));
  CHECK_FALSE(traceback_matches(filter, t3));
  CHECK_FALSE(traceback_matches(filter, unknown));
}
