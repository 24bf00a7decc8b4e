#pragma once
// tracemalloc's analysis API (CPython Lib/tracemalloc.py) over heapsnap::Snapshot: statistics(),
// compare_to() and filter_traces() with Filter/DomainFilter values.
//
// The semantics are CPython's, quirks included, so that numbers agree with tracemalloc on the same data:
//  - A traceback with no frames is analysed as tracemalloc's empty traceback, one frame "<unknown>":0.
//  - Grouping keys: Lineno = the most recent frame alone; Filename = {filename, lineno 0}; Traceback = the
//    whole stack. Traces of every domain are grouped together.
//  - Cumulative mode adds a trace to the group of *every frame occurrence* of its stack: a function that
//    appears twice in a recursive stack, or a file with two frames in one stack, counts that trace twice
//    (tracemalloc iterates the frames without removing duplicates). Not allowed with GroupBy::Traceback.
//  - Tracebacks order by their frames oldest first (tracemalloc stores them reversed for comparison).
// Traces are aggregated (one Trace = `count` blocks of one site), which changes none of the results:
// tracemalloc adds 1 per block, we add `count` per trace.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap {

enum class GroupBy { Lineno, Filename, Traceback };

// Memory of one group of a snapshot.
struct Statistic {
  Traceback traceback;     // group key (see GroupBy)
  std::uint64_t size = 0;  // bytes of the group's blocks
  std::uint64_t count = 0; // number of blocks

  friend bool operator==(const Statistic&, const Statistic&) = default;
};

// Memory of one group in a newer snapshot compared to an older one.
struct StatisticDiff {
  Traceback traceback;          // group key (see GroupBy)
  std::uint64_t size = 0;       // bytes in the newer snapshot (0 when the group is gone)
  std::int64_t size_diff = 0;   // newer minus older bytes
  std::uint64_t count = 0;      // blocks in the newer snapshot
  std::int64_t count_diff = 0;  // newer minus older blocks

  friend bool operator==(const StatisticDiff&, const StatisticDiff&) = default;
};

// Selects traces by the filename (and line) of their frames, like tracemalloc.Filter.
struct Filter {
  bool inclusive = true;                // true: keep matching traces; false: drop them
  std::string filename_pattern;         // fnmatch pattern; '*' also matches '/'
  std::optional<std::uint32_t> lineno;  // only this line (of a matching file); any line when empty
  bool all_frames = false;              // match any frame of the stack, not only the most recent one
  std::optional<DomainId> domain;       // restrict to (inclusive) or exempt (exclusive) other domains
};

// Selects traces by domain, like tracemalloc.DomainFilter.
struct DomainFilter {
  bool inclusive = true;
  DomainId domain = kDefaultDomain;
};

using TraceFilter = std::variant<Filter, DomainFilter>;

// Statistics sorted by (size, count, traceback), biggest first.
// Throws std::invalid_argument for cumulative with GroupBy::Traceback, std::out_of_range when a trace
// names a traceback the snapshot does not have.
std::vector<Statistic> statistics(const Snapshot& snapshot, GroupBy group_by, bool cumulative = false);

// Groups of `newer` and `older` matched by key; groups only in `older` appear with size 0 and negative
// diffs. Sorted by (|size_diff|, size, |count_diff|, count, traceback), biggest first.
std::vector<StatisticDiff> compare_to(const Snapshot& newer, const Snapshot& older, GroupBy group_by,
                                      bool cumulative = false);

// A copy of `snapshot` keeping the traces that match at least one inclusive filter (when there is one)
// and every exclusive filter. An empty list keeps every trace.
Snapshot filter_traces(const Snapshot& snapshot, const std::vector<TraceFilter>& filters);

// Building blocks of the above, exposed for tests and for tools that need the same matching rules.

// Python's fnmatch.fnmatch on POSIX (case-sensitive): '*' any run of characters including '/', '?' one
// character, "[seq]"/"[!seq]" a set with ranges; a '[' without a closing ']' is literal.
bool fnmatch(std::string_view name, std::string_view pattern);
// tracemalloc's Filter._match_frame: does `filter` keep a trace whose deciding frame is `frame`?
bool frame_matches(const Filter& filter, const Frame& frame);
// tracemalloc's Filter._match_traceback: does `filter` keep a trace with this stack (domain ignored)?
bool traceback_matches(const Filter& filter, const Traceback& traceback);

// The frames tracemalloc analyses for `traceback`: its own, or one "<unknown>":0 frame when it has none.
const std::vector<Frame>& analysed_frames(const Traceback& traceback);

// The group `traceback` falls in (not cumulative): the stack itself, its most recent frame, or its file.
Traceback group_key(const Traceback& traceback, GroupBy group_by);

// Orders tracebacks as tracemalloc does: the frame sequences compared oldest frame first, lexicographically.
std::strong_ordering compare_tracebacks(const Traceback& a, const Traceback& b);

// compare_tracebacks as a less-than, for ordered containers keyed by stack.
struct TracebackLess {
  bool operator()(const Traceback& a, const Traceback& b) const { return compare_tracebacks(a, b) < 0; }
};

}  // namespace heapsnap
