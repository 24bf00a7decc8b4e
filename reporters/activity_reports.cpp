#include "reporters/activity_reports.h"

#include <string>

#include "reporters/frame_format.h"
#include "reporters/json_output.h"
#include "snapshot/format_size.h"

namespace heapsnap {
namespace {

std::string measure_title(Measure measure) {
  switch (measure) {
    case Measure::Live: return "live bytes";
    case Measure::Allocated: return "bytes allocated";
    case Measure::Calls: return "allocation calls";
    case Measure::Temporary: return "temporary allocations";
    case Measure::Peak: return "bytes at the peak";
  }
  return {};
}

std::string signed_count(std::int64_t value) { return (value >= 0 ? "+" : "") + std::to_string(value); }

std::int64_t difference(std::uint64_t newer, std::uint64_t older) {
  return static_cast<std::int64_t>(newer) - static_cast<std::int64_t>(older);
}

std::string amounts(const SiteStatistic& s) {
  return "allocated=" + format_size(s.allocated_size) + " in " + std::to_string(s.calls) + (s.calls == 1 ? " call" : " calls") +
         ", temporary=" + std::to_string(s.temporary) + ", peak=" + format_size(s.peak_size) + ", live=" + format_size(s.size);
}

std::string amounts(const SiteStatistic& n, const SiteStatistic& o) {
  return "allocated=" + format_size(n.allocated_size) + " (" + format_size(difference(n.allocated_size, o.allocated_size), true) +
         ") in " + std::to_string(n.calls) + " calls (" + signed_count(difference(n.calls, o.calls)) + "), temporary=" +
         std::to_string(n.temporary) + " (" + signed_count(difference(n.temporary, o.temporary)) + "), peak=" +
         format_size(n.peak_size) + " (" + format_size(difference(n.peak_size, o.peak_size), true) + "), live=" +
         format_size(n.size) + " (" + format_size(difference(n.size, o.size), true) + ")";
}

// One entry: "#i: where: amounts", or with --by traceback the amounts and then the whole stack.
void write_entry(std::ostream& out, std::size_t number, const Traceback& key, GroupBy group_by, const std::string& text) {
  out << "#" << number << ": ";
  if (group_by == GroupBy::Traceback) {
    out << text << "\n";
    write_stack(out, key, "    ");
  } else {
    out << (key.frames.empty() ? "<unknown>" : format_frame(key.frames.front())) << ": " << text << "\n";
  }
}

nlohmann::ordered_json entry_json(const SiteStatistic& s) {
  return {{"traceback", traceback_to_json(s.traceback)},
          {"size", s.size},
          {"count", s.count},
          {"calls", s.calls},
          {"allocated_size", s.allocated_size},
          {"temporary", s.temporary},
          {"peak_size", s.peak_size},
          {"peak_count", s.peak_count}};
}

}  // namespace

ActivityTextReporter::ActivityTextReporter(std::vector<SiteStatistic> statistics, Measure measure,
                                           StatisticsReportOptions options, std::optional<PeakView> peak_view,
                                           std::uint64_t traced_peak)
    : statistics_(std::move(statistics)), measure_(measure), options_(options), peak_view_(peak_view), traced_peak_(traced_peak) {}

void ActivityTextReporter::render(std::ostream& out) const {
  const std::size_t shown = shown_entries(statistics_.size(), options_);
  out << "Top " << shown << " " << group_noun(options_.group_by, shown) << " by " << measure_title(measure_) << "\n";
  SiteStatistic total, other;
  for (std::size_t i = 0; i < statistics_.size(); ++i) {
    const SiteStatistic& s = statistics_[i];
    if (i < shown) write_entry(out, i + 1, s.traceback, options_.group_by, amounts(s));
    for (SiteStatistic* sum : {&total, i < shown ? nullptr : &other}) {
      if (sum == nullptr) continue;
      sum->calls += s.calls;
      sum->allocated_size += s.allocated_size;
      sum->temporary += s.temporary;
      sum->peak_size += s.peak_size;
      sum->size += s.size;
    }
  }
  if (shown < statistics_.size()) out << (statistics_.size() - shown) << " other: " << amounts(other) << "\n";
  out << "Total: " << amounts(total) << "\n";
  if (peak_view_) {
    out << "Peak view: " << format_size(peak_view_->total) << " live when taken; the traced peak is "
        << format_size(traced_peak_) << "\n";
  } else {
    out << "Peak view: none in this snapshot\n";
  }
}

ActivityJsonReporter::ActivityJsonReporter(std::vector<SiteStatistic> statistics, StatisticsReportOptions options)
    : statistics_(std::move(statistics)), options_(options) {}

void ActivityJsonReporter::render(std::ostream& out) const {
  auto list = nlohmann::ordered_json::array();
  const std::size_t shown = shown_entries(statistics_.size(), options_);
  for (std::size_t i = 0; i < shown; ++i) list.push_back(entry_json(statistics_[i]));
  write_json(out, list);
}

ActivityDiffTextReporter::ActivityDiffTextReporter(std::vector<SiteStatisticDiff> differences, Measure measure,
                                                   StatisticsReportOptions options)
    : differences_(std::move(differences)), measure_(measure), options_(options) {}

void ActivityDiffTextReporter::render(std::ostream& out) const {
  const std::size_t shown = shown_entries(differences_.size(), options_);
  out << "Top " << shown << (shown == 1 ? " difference" : " differences") << " of " << measure_title(measure_) << " by "
      << group_noun(options_.group_by, 1) << "\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const SiteStatisticDiff& diff = differences_[i];
    write_entry(out, i + 1, diff.newer.traceback, options_.group_by, amounts(diff.newer, diff.older));
  }
  if (shown < differences_.size()) out << (differences_.size() - shown) << " other\n";
}

ActivityDiffJsonReporter::ActivityDiffJsonReporter(std::vector<SiteStatisticDiff> differences, StatisticsReportOptions options)
    : differences_(std::move(differences)), options_(options) {}

void ActivityDiffJsonReporter::render(std::ostream& out) const {
  auto list = nlohmann::ordered_json::array();
  const std::size_t shown = shown_entries(differences_.size(), options_);
  for (std::size_t i = 0; i < shown; ++i) {
    const SiteStatistic& n = differences_[i].newer;
    const SiteStatistic& o = differences_[i].older;
    nlohmann::ordered_json entry = entry_json(n);
    entry["size_diff"] = difference(n.size, o.size);
    entry["count_diff"] = difference(n.count, o.count);
    entry["calls_diff"] = difference(n.calls, o.calls);
    entry["allocated_size_diff"] = difference(n.allocated_size, o.allocated_size);
    entry["temporary_diff"] = difference(n.temporary, o.temporary);
    entry["peak_size_diff"] = difference(n.peak_size, o.peak_size);
    entry["peak_count_diff"] = difference(n.peak_count, o.peak_count);
    list.push_back(std::move(entry));
  }
  write_json(out, list);
}

}  // namespace heapsnap
