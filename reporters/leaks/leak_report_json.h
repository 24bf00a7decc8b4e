#pragma once
// The leak report as JSON, schema "heapsnap-leak-report" version 1 (docs/leak-report.md).

#include "reporters/leaks/leak_report.h"
#include "reporters/reporter.h"

namespace heapsnap {

class LeakReportJsonReporter final : public Reporter {
 public:
  explicit LeakReportJsonReporter(LeakReport report);
  void render(std::ostream& out) const override;

 private:
  LeakReport report_;
};

}  // namespace heapsnap
