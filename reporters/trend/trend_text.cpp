#include "reporters/trend/trend_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "reporters/frame_format.h"
#include "snapshot/format_size.h"

namespace heapsnap {
namespace {

std::string_view group_name(GroupBy group_by) {
  switch (group_by) {
    case GroupBy::Lineno: return "line";
    case GroupBy::Filename: return "file";
    case GroupBy::Traceback: return "traceback";
  }
  return "line";
}

std::string format_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, seconds < 10 ? "%.1f s" : "%.0f s", seconds);
  return text;
}

// Terminal columns of `text`: its code points (the cells are ASCII but for the arrow).
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t columns = display_width(text);
  return columns >= width ? text : text + std::string(width - columns, ' ');
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t columns = display_width(text);
  return columns >= width ? text : std::string(width - columns, ' ') + text;
}

}  // namespace

std::string format_slope(double slope, TrendAxis axis) {
  if (std::abs(slope) < 0.5) slope = 0;  // "+0 B/s", not "-0 B/s" for a rounding error
  return format_size(slope, true) + (axis == TrendAxis::Seconds ? "/s" : "/snapshot");
}

void TrendTextReporter::render(std::ostream& out) const {
  const auto& points = report_.snapshots;
  out << "Trend of " << points.size() << " snapshots by " << group_name(report_.group_by) << ", ";
  if (report_.axis == TrendAxis::Seconds) {
    out << "0 s to " << format_seconds(points.back().x);
  } else {
    out << "in the order given (their times are not all different)";
  }
  out << ": " << points.front().path << " ... " << points.back().path << "\n";
  for (const TrendClass trend_class :
       {TrendClass::Growing, TrendClass::Plateau, TrendClass::Churn, TrendClass::Shrinking, TrendClass::Stable}) {
    out << (trend_class == TrendClass::Growing ? "" : ", ") << report_.count(trend_class) << " "
        << trend_class_name(trend_class);
  }
  out << "\n";

  const std::size_t shown = limit_ == 0 ? report_.sites.size() : std::min(limit_, report_.sites.size());
  if (shown > 0) {
    struct Row {
      std::string rank, trend_class, sizes, slope;
    };
    std::vector<Row> rows;
    Row header{"#", "class", "first → last", "slope"};
    std::size_t widths[4] = {0, 0, 0, 0};
    const auto widen = [&](const Row& row) {
      const std::string* cells[4] = {&row.rank, &row.trend_class, &row.sizes, &row.slope};
      for (int i = 0; i < 4; ++i) widths[i] = std::max(widths[i], display_width(*cells[i]));
    };
    widen(header);
    for (std::size_t i = 0; i < shown; ++i) {
      const TrendSite& site = report_.sites[i];
      rows.push_back({std::to_string(i + 1), std::string(trend_class_name(site.trend.trend_class)),
                      format_size(site.sizes.front()) + " → " + format_size(site.sizes.back()),
                      format_slope(site.trend.slope, report_.axis)});
      widen(rows.back());
    }
    const auto write_row = [&](const Row& row, const std::string& site) {
      out << " " << pad_left(row.rank, widths[0]) << "  " << pad_right(row.trend_class, widths[1]) << "  "
          << pad_right(row.sizes, widths[2]) << "  " << pad_right(row.slope, widths[3]) << "  " << site << "\n";
    };
    out << "\n";
    write_row(header, "site");
    for (std::size_t i = 0; i < shown; ++i) {
      const Traceback& traceback = report_.sites[i].traceback;
      write_row(rows[i], traceback.frames.empty() ? "<unknown>" : format_frame(traceback.frames.front()));
      if (report_.group_by == GroupBy::Traceback) {
        const std::string indent(1 + widths[0] + 2 + widths[1] + 2 + widths[2] + 2 + widths[3] + 2, ' ');
        for (std::size_t f = 1; f < traceback.frames.size(); ++f) out << indent << format_frame(traceback.frames[f]) << "\n";
        if (const std::string note = format_truncation(traceback); !note.empty()) out << indent << note << "\n";
      }
    }
  }
  if (shown < report_.sites.size()) {
    out << (report_.sites.size() - shown) << " other sites (--limit 0 shows all)\n";
  }
}

}  // namespace heapsnap
