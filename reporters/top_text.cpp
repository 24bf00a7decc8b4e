#include "reporters/top_text.h"

#include <string>

#include "reporters/frame_format.h"
#include "snapshot/format_size.h"
#include "snapshot/text_forms.h"

namespace heapsnap {

TopTextReporter::TopTextReporter(std::vector<Statistic> statistics, StatisticsReportOptions options)
    : statistics_(std::move(statistics)), options_(options) {}

void TopTextReporter::render(std::ostream& out) const {
  const std::size_t shown = shown_entries(statistics_.size(), options_);
  out << "Top " << shown << " " << group_noun(options_.group_by, shown)
      << (options_.cumulative ? " (cumulative: each frame of a stack counts the whole allocation)" : "") << "\n";

  for (std::size_t i = 0; i < shown; ++i) {
    const Statistic& statistic = statistics_[i];
    out << "#" << (i + 1) << ": ";
    if (options_.group_by == GroupBy::Traceback) {
      out << format_amounts(statistic.size, statistic.count) << "\n";
      for (const Frame& frame : statistic.traceback.frames) out << "    " << format_frame(frame) << "\n";
      if (const std::string note = format_truncation(statistic.traceback); !note.empty()) {
        out << "    " << note << "\n";
      }
    } else {
      // Grouped by line or file, the key is a single frame.
      const std::string where =
          statistic.traceback.frames.empty() ? "<unknown>" : format_frame(statistic.traceback.frames.front());
      out << where << ": " << format_amounts(statistic.size, statistic.count) << "\n";
    }
  }

  std::uint64_t other_size = 0;
  std::uint64_t other_count = 0;
  for (std::size_t i = shown; i < statistics_.size(); ++i) {
    other_size += statistics_[i].size;
    other_count += statistics_[i].count;
  }
  if (shown < statistics_.size()) {
    out << (statistics_.size() - shown) << " other: " << format_amounts(other_size, other_count) << "\n";
  }
  // In cumulative mode a block is counted once per frame, so a sum over groups means nothing.
  if (!options_.cumulative) {
    std::uint64_t total = other_size;
    for (std::size_t i = 0; i < shown; ++i) total += statistics_[i].size;
    out << "Total allocated size: " << format_size(total) << "\n";
  }
}

}  // namespace heapsnap
