#pragma once
// `heapsnap trend --format json`: the versioned document of docs/trend.md
// (schema: docs/schemas/trend.schema.json).

#include <cstddef>
#include <string_view>

#include "reporters/reporter.h"
#include "reporters/trend/trend_report.h"

namespace heapsnap {

inline constexpr std::string_view kTrendFormat = "heapsnap-trend";
inline constexpr int kTrendVersion = 1;

class TrendJsonReporter final : public Reporter {
 public:
  // `limit`: the first `limit` sites are listed (0: all); the totals count every site.
  TrendJsonReporter(TrendReport report, std::size_t limit) : report_(std::move(report)), limit_(limit) {}
  void render(std::ostream& out) const override;

 private:
  TrendReport report_;
  std::size_t limit_;
};

}  // namespace heapsnap
