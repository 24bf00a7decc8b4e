#include "reporters/statistics_json.h"

#include "reporters/frame_format.h"
#include "reporters/json_output.h"

namespace heapsnap {

StatisticsJsonReporter::StatisticsJsonReporter(std::vector<Statistic> statistics, StatisticsReportOptions options)
    : statistics_(std::move(statistics)), options_(options) {}

void StatisticsJsonReporter::render(std::ostream& out) const {
  auto list = nlohmann::ordered_json::array();
  const std::size_t shown = shown_entries(statistics_.size(), options_);
  for (std::size_t i = 0; i < shown; ++i) {
    const Statistic& statistic = statistics_[i];
    list.push_back({{"traceback", traceback_to_json(statistic.traceback)},
                    {"size", statistic.size},
                    {"count", statistic.count}});
  }
  write_json(out, list);
}

DiffJsonReporter::DiffJsonReporter(std::vector<StatisticDiff> differences, StatisticsReportOptions options)
    : differences_(std::move(differences)), options_(options) {}

void DiffJsonReporter::render(std::ostream& out) const {
  auto list = nlohmann::ordered_json::array();
  const std::size_t shown = shown_entries(differences_.size(), options_);
  for (std::size_t i = 0; i < shown; ++i) {
    const StatisticDiff& diff = differences_[i];
    list.push_back({{"traceback", traceback_to_json(diff.traceback)},
                    {"size", diff.size},
                    {"size_diff", diff.size_diff},
                    {"count", diff.count},
                    {"count_diff", diff.count_diff}});
  }
  write_json(out, list);
}

}  // namespace heapsnap
