#include "reporters/trend/trend_json.h"

#include <algorithm>

#include "reporters/frame_format.h"
#include "reporters/json_output.h"

namespace heapsnap {
namespace {

std::string_view group_by_name(GroupBy group_by) {
  switch (group_by) {
    case GroupBy::Lineno: return "lineno";
    case GroupBy::Filename: return "filename";
    case GroupBy::Traceback: return "traceback";
  }
  return "lineno";
}

}  // namespace

void TrendJsonReporter::render(std::ostream& out) const {
  using Json = nlohmann::ordered_json;
  const bool seconds = report_.axis == TrendAxis::Seconds;
  Json snapshots = Json::array();
  for (const TrendPoint& point : report_.snapshots) {
    snapshots.push_back({{"file", point.path},
                         {"unix_time_ms", point.unix_time_ms},
                         {"reason", point.reason},
                         {"x", point.x},
                         {"size", point.size}});
  }
  Json totals = {{"sites", report_.sites.size()}};
  for (const TrendClass trend_class :
       {TrendClass::Growing, TrendClass::Plateau, TrendClass::Churn, TrendClass::Shrinking, TrendClass::Stable}) {
    totals[std::string(trend_class_name(trend_class))] = report_.count(trend_class);
  }
  Json sites = Json::array();
  const std::size_t shown = limit_ == 0 ? report_.sites.size() : std::min(limit_, report_.sites.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const TrendSite& site = report_.sites[i];
    const SiteTrend& trend = site.trend;
    sites.push_back({{"class", trend_class_name(trend.trend_class)},
                     {"traceback", traceback_to_json(site.traceback)},
                     {"first", site.sizes.front()},
                     {"last", site.sizes.back()},
                     {"growth", trend.growth},
                     {"min", trend.min},
                     {"max", trend.max},
                     {"slope", trend.slope},
                     {"rising_steps", trend.rising_steps},
                     {"falling_steps", trend.falling_steps},
                     {"tail_start", trend.tail_start},
                     {"tail_growth", trend.tail_growth},
                     {"sizes", site.sizes},
                     {"counts", site.counts}});
  }
  const Json document = {
      {"format", kTrendFormat},
      {"version", kTrendVersion},
      {"group_by", group_by_name(report_.group_by)},
      {"axis", seconds ? "seconds" : "snapshots"},
      {"slope_unit", seconds ? "bytes/s" : "bytes/snapshot"},
      {"snapshots", std::move(snapshots)},
      {"totals", std::move(totals)},
      {"sites", std::move(sites)},
  };
  write_json(out, document);
}

}  // namespace heapsnap
