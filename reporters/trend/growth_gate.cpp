#include "reporters/trend/growth_gate.h"

#include <algorithm>

#include "reporters/frame_format.h"
#include "snapshot/format_size.h"

namespace heapsnap {

GateResult evaluate_growth_gate(const TrendReport& trend, std::uint64_t max_growth) {
  std::vector<const TrendSite*> failing;
  for (const TrendSite& site : trend.sites) {
    if (site.trend.trend_class == TrendClass::Growing && static_cast<std::uint64_t>(site.trend.growth) > max_growth) {
      failing.push_back(&site);
    }
  }
  std::stable_sort(failing.begin(), failing.end(),
                   [](const TrendSite* a, const TrendSite* b) { return a->trend.growth > b->trend.growth; });
  GateResult result;
  for (const TrendSite* site : failing) {
    const std::string where = site->traceback.frames.empty() ? "<unknown>" : format_frame(site->traceback.frames.front());
    const auto growth = static_cast<std::uint64_t>(site->trend.growth);
    result.reasons.push_back(where + " grew steadily by " + format_size(growth) + " (" + std::to_string(growth) +
                             (growth == 1 ? " byte" : " bytes") + ") over " + std::to_string(trend.snapshots.size()) +
                             " snapshots, exceeding --max-growth " + std::to_string(max_growth));
  }
  result.passed = result.reasons.empty();
  return result;
}

}  // namespace heapsnap
