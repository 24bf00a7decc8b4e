#include "reporters/diff_text.h"

#include <string>

#include "reporters/frame_format.h"
#include "snapshot/text_forms.h"

namespace heapsnap {

DiffTextReporter::DiffTextReporter(std::vector<StatisticDiff> differences, StatisticsReportOptions options)
    : differences_(std::move(differences)), options_(options) {}

void DiffTextReporter::render(std::ostream& out) const {
  const std::size_t shown = shown_entries(differences_.size(), options_);
  out << "Top " << shown << (shown == 1 ? " difference" : " differences") << " by " << group_noun(options_.group_by, 1)
      << (options_.cumulative ? " (cumulative)" : "") << "\n";

  for (std::size_t i = 0; i < shown; ++i) {
    const StatisticDiff& diff = differences_[i];
    out << "#" << (i + 1) << ": ";
    const std::string text = format_amounts(diff.size, diff.size_diff, diff.count, diff.count_diff);
    if (options_.group_by == GroupBy::Traceback) {
      out << text << "\n";
      for (const Frame& frame : diff.traceback.frames) out << "    " << format_frame(frame) << "\n";
      if (const std::string note = format_truncation(diff.traceback); !note.empty()) out << "    " << note << "\n";
    } else {
      const std::string where = diff.traceback.frames.empty() ? "<unknown>" : format_frame(diff.traceback.frames.front());
      out << where << ": " << text << "\n";
    }
  }

  struct Sums {
    std::uint64_t size = 0, count = 0;
    std::int64_t size_diff = 0, count_diff = 0;
    void add(const StatisticDiff& diff) {
      size += diff.size;
      size_diff += diff.size_diff;
      count += diff.count;
      count_diff += diff.count_diff;
    }
  } total, other;
  for (std::size_t i = 0; i < differences_.size(); ++i) {
    total.add(differences_[i]);
    if (i >= shown) other.add(differences_[i]);
  }
  if (shown < differences_.size()) {
    out << (differences_.size() - shown) << " other: "
        << format_amounts(other.size, other.size_diff, other.count, other.count_diff) << "\n";
  }
  // In cumulative mode a block is counted once per frame, so a sum over groups means nothing.
  if (!options_.cumulative) {
    out << "Total: " << format_amounts(total.size, total.size_diff, total.count, total.count_diff) << "\n";
  }
}

}  // namespace heapsnap
