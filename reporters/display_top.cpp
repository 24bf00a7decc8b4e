#include "reporters/display_top.h"

#include <array>
#include <cstdio>

namespace heapsnap {
namespace {

std::string kibibytes(std::uint64_t size) {  // Python's "%.1f KiB" % (size / 1024)
  std::array<char, 64> text{};
  std::snprintf(text.data(), text.size(), "%.1f KiB", static_cast<double>(size) / 1024.0);
  return text.data();
}

Filter exclude(std::string pattern) {
  Filter filter;
  filter.inclusive = false;
  filter.filename_pattern = std::move(pattern);
  return filter;
}

}  // namespace

std::string display_top(const Snapshot& snapshot, GroupBy key_type, std::size_t limit, LineCache& lines) {
  const Snapshot filtered =
      filter_traces(snapshot, {exclude("<frozen importlib._bootstrap>"), exclude("<unknown>")});
  const std::vector<Statistic> top_stats = statistics(filtered, key_type);

  std::string text = "Top " + std::to_string(limit) + " lines\n";
  const std::size_t shown = std::min(limit, top_stats.size());
  std::uint64_t total = 0;
  for (std::size_t index = 0; index < top_stats.size(); ++index) total += top_stats[index].size;
  for (std::size_t index = 0; index < shown; ++index) {
    const Statistic& stat = top_stats[index];
    const Frame& frame = analysed_frames(stat.traceback).back();  // stat.traceback[0]: the oldest frame
    text += "#" + std::to_string(index + 1) + ": " + frame.filename + ":" + std::to_string(frame.lineno) + ": " +
            kibibytes(stat.size) + "\n";
    const std::string line = strip_whitespace(lines.getline(frame.filename, frame.lineno));
    if (!line.empty()) text += "    " + line + "\n";
  }
  if (shown < top_stats.size()) {
    std::uint64_t other = 0;
    for (std::size_t index = shown; index < top_stats.size(); ++index) other += top_stats[index].size;
    text += std::to_string(top_stats.size() - shown) + " other: " + kibibytes(other) + "\n";
  }
  text += "Total allocated size: " + kibibytes(total) + "\n";
  return text;
}

std::string display_top(const Snapshot& snapshot, GroupBy key_type, std::size_t limit) {
  LineCache lines;
  return display_top(snapshot, key_type, limit, lines);
}

}  // namespace heapsnap
