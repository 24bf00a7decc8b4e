#pragma once
// tracemalloc's text forms, byte for byte: str() of Frame, Traceback, Trace, Statistic and
// StatisticDiff, and Traceback.format(). On snapshots converted from Python (frames without a
// function) they print exactly what CPython prints; heapsnap's own reports (reporters/) add function
// names on top of these.
//
// CPython's conventions, kept as they are:
//  - str(Frame) is "filename:lineno", lineno 0 included ("<unknown>:0").
//  - str(Traceback) is its *oldest* frame (Python stores tracebacks oldest first and prints [0]);
//    for a Statistic grouped by line or file the key has one frame, so that is the frame.
//  - Traceback.format() lists frames oldest first unless most_recent_first; a positive limit keeps
//    the `limit` most recent frames, 0 none, and a negative one drops the |limit| most recent
//    frames (Python's frames[:limit], which is not what the documentation says).
// A traceback without frames is tracemalloc's "<unknown>":0 (see analysed_frames).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "snapshot/linecache.h"
#include "snapshot/statistics.h"

namespace heapsnap {

std::string to_string(const Frame& frame);          // "a.py:2"
std::string to_string(const Traceback& traceback);  // its oldest frame: "b.py:4"
// "b.py:1: size=66 B, count=1, average=66 B" (no average when count is 0).
std::string to_string(const Statistic& statistic);
// "a.py:5: size=5002 B (+5000 B), count=2 (+1), average=2501 B".
std::string to_string(const StatisticDiff& diff);
// str(Trace): "b.py:4: 10 B". An aggregated trace shows the size of all its `count` blocks.
std::string to_string(const Snapshot& snapshot, const Trace& trace);

// The parts after "<traceback>: " of the two above, for reports that print the key their own way:
// "size=66 B, count=1, average=66 B" and "size=5002 B (+5000 B), count=2 (+1), average=2501 B".
std::string format_amounts(std::uint64_t size, std::uint64_t count);
std::string format_amounts(std::uint64_t size, std::int64_t size_diff, std::uint64_t count, std::int64_t count_diff);

// linecache.getline's role: the source line `lineno` of `filename`, or "".
using GetLine = std::function<std::string(const std::string& filename, std::uint32_t lineno)>;

// Traceback.format(limit, most_recent_first): for each frame '  File "a.py", line 2', then the
// source line from `getline`, stripped and indented by four spaces, unless it is blank.
std::vector<std::string> format_traceback(const Traceback& traceback, std::optional<std::int64_t> limit,
                                          bool most_recent_first, const GetLine& getline);
// The same, reading source files through `lines`.
std::vector<std::string> format_traceback(const Traceback& traceback, std::optional<std::int64_t> limit,
                                          bool most_recent_first, LineCache& lines);
// The same, reading source files through a LineCache of its own.
std::vector<std::string> format_traceback(const Traceback& traceback, std::optional<std::int64_t> limit = std::nullopt,
                                          bool most_recent_first = false);

}  // namespace heapsnap
