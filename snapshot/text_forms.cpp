#include "snapshot/text_forms.h"

#include <algorithm>

#include "snapshot/format_size.h"

namespace heapsnap {
namespace {

// Appended rather than "+" + text: GCC 12 at -O3 warns (-Wrestrict, wrongly) on inserting at the front.
std::string signed_integer(std::int64_t value) {
  std::string text = value >= 0 ? "+" : "";
  text += std::to_string(value);
  return text;
}

// ", average=..." when there are blocks to average over (Python: size / count, a float).
std::string average(std::uint64_t size, std::uint64_t count) {
  if (count == 0) return {};
  return ", average=" + format_size(static_cast<double>(size) / static_cast<double>(count));
}

}  // namespace

std::string to_string(const Frame& frame) { return frame.filename + ":" + std::to_string(frame.lineno); }

std::string to_string(const Traceback& traceback) { return to_string(analysed_frames(traceback).back()); }

std::string format_amounts(std::uint64_t size, std::uint64_t count) {
  return "size=" + format_size(size) + ", count=" + std::to_string(count) + average(size, count);
}

std::string format_amounts(std::uint64_t size, std::int64_t size_diff, std::uint64_t count, std::int64_t count_diff) {
  return "size=" + format_size(size) + " (" + format_size(size_diff, true) + "), count=" + std::to_string(count) +
         " (" + signed_integer(count_diff) + ")" + average(size, count);
}

std::string to_string(const Statistic& statistic) {
  return to_string(statistic.traceback) + ": " + format_amounts(statistic.size, statistic.count);
}

std::string to_string(const StatisticDiff& diff) {
  return to_string(diff.traceback) + ": " + format_amounts(diff.size, diff.size_diff, diff.count, diff.count_diff);
}

std::string to_string(const Snapshot& snapshot, const Trace& trace) {
  return to_string(snapshot.tracebacks.at(static_cast<std::uint32_t>(trace.traceback))) + ": " +
         format_size(trace.size);
}

std::vector<std::string> format_traceback(const Traceback& traceback, std::optional<std::int64_t> limit,
                                          bool most_recent_first, const GetLine& getline) {
  // Oldest first, as Python holds them; then Python's slice for the limit.
  std::vector<Frame> frames(analysed_frames(traceback).rbegin(), analysed_frames(traceback).rend());
  if (limit) {
    const auto n = static_cast<std::int64_t>(frames.size());
    if (*limit > 0) {
      frames.erase(frames.begin(), frames.begin() + (n - std::min(*limit, n)));  // frames[-limit:]
    } else {
      // frames[:limit]: nothing for 0, all but the |limit| most recent frames below.
      frames.resize(*limit == 0 ? 0 : static_cast<std::size_t>(std::max<std::int64_t>(0, n + *limit)));
    }
  }
  if (most_recent_first) std::reverse(frames.begin(), frames.end());

  std::vector<std::string> result;
  for (const Frame& frame : frames) {
    result.push_back("  File \"" + frame.filename + "\", line " + std::to_string(frame.lineno));
    const std::string line = strip_whitespace(getline(frame.filename, frame.lineno));
    if (!line.empty()) result.push_back("    " + line);
  }
  return result;
}

std::vector<std::string> format_traceback(const Traceback& traceback, std::optional<std::int64_t> limit,
                                          bool most_recent_first, LineCache& lines) {
  return format_traceback(traceback, limit, most_recent_first,
                          [&](const std::string& filename, std::uint32_t lineno) { return lines.getline(filename, lineno); });
}

std::vector<std::string> format_traceback(const Traceback& traceback, std::optional<std::int64_t> limit,
                                          bool most_recent_first) {
  LineCache lines;
  return format_traceback(traceback, limit, most_recent_first, lines);
}

}  // namespace heapsnap
