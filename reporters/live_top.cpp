#include "reporters/live_top.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "reporters/frame_format.h"
#include "snapshot/format_size.h"

namespace heapsnap {
namespace {

std::int64_t signed_bytes(std::uint64_t bytes) { return static_cast<std::int64_t>(bytes); }

std::int64_t order_value(const LiveTopRow& row, LiveTopOrder order) {
  switch (order) {
    case LiveTopOrder::Live: return signed_bytes(row.size);
    case LiveTopOrder::Growth: return row.growth;
    case LiveTopOrder::Change: return row.change;
    case LiveTopOrder::Blocks: return signed_bytes(row.count);
  }
  return 0;
}

// "src/a.cpp:12 (f)"; a whole stack (grouped by traceback) as its frames, most recent first.
std::string where(const Traceback& key) {
  if (key.frames.empty()) return "<unknown>";
  std::string text = format_frame(key.frames.front());
  for (std::size_t i = 1; i < key.frames.size(); ++i) text += " < " + format_frame(key.frames[i]);
  return text;
}

std::string right_aligned(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string columns(const std::string& live, const std::string& blocks, const std::string& change, const std::string& growth,
                    const std::string& place, std::size_t width) {
  std::string line = right_aligned(live, 10) + right_aligned(blocks, 10) + right_aligned(change, 12) +
                     right_aligned(growth, 12) + "  " + place;
  if (width != 0 && line.size() > width) line.resize(width);
  return line;
}

}  // namespace

std::vector<LiveTopRow> live_top_rows(const Snapshot& now, const Snapshot& previous, const Snapshot& first,
                                      GroupBy group_by, LiveTopOrder order) {
  std::map<std::vector<Frame>, LiveTopRow> by_key;
  auto row_of = [&](const Traceback& key) -> LiveTopRow& {
    LiveTopRow& row = by_key[key.frames];
    if (row.key.frames.empty() && !key.frames.empty()) row.key = key;
    return row;
  };
  for (const Statistic& statistic : statistics(now, group_by)) {
    LiveTopRow& row = row_of(statistic.traceback);
    row.size = statistic.size;
    row.count = statistic.count;
    row.change += signed_bytes(statistic.size);
    row.growth += signed_bytes(statistic.size);
  }
  for (const Statistic& statistic : statistics(previous, group_by)) row_of(statistic.traceback).change -= signed_bytes(statistic.size);
  for (const Statistic& statistic : statistics(first, group_by)) row_of(statistic.traceback).growth -= signed_bytes(statistic.size);

  std::vector<LiveTopRow> rows;
  rows.reserve(by_key.size());
  for (auto& [frames, row] : by_key) rows.push_back(std::move(row));
  std::stable_sort(rows.begin(), rows.end(), [order](const LiveTopRow& a, const LiveTopRow& b) {
    return std::tuple(order_value(a, order), a.size) > std::tuple(order_value(b, order), b.size);
  });
  return rows;
}

std::vector<std::string> format_live_top(const std::vector<LiveTopRow>& rows, std::size_t limit, std::size_t width,
                                         LiveTopOrder order) {
  const bool show_gone = order == LiveTopOrder::Change || order == LiveTopOrder::Growth;
  std::vector<std::string> lines{columns("LIVE", "BLOCKS", "CHANGE", "GROWTH", "WHERE", width)};
  std::size_t shown = 0, others = 0;
  std::uint64_t other_size = 0, other_count = 0;
  for (const LiveTopRow& row : rows) {
    if (row.size == 0 && !show_gone) continue;
    if (limit != 0 && shown == limit) {
      ++others;
      other_size += row.size;
      other_count += row.count;
      continue;
    }
    lines.push_back(columns(format_size(row.size), std::to_string(row.count), format_size(row.change, true),
                            format_size(row.growth, true), where(row.key), width));
    ++shown;
  }
  if (others != 0) {
    std::string line = std::to_string(others) + " other: " + format_size(other_size) + " in " + std::to_string(other_count) +
                       (other_count == 1 ? " block" : " blocks");
    if (width != 0 && line.size() > width) line.resize(width);
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace heapsnap
