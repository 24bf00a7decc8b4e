#include "fuzz/snapshot_checks.h"

#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "fuzz/fuzz_target.h"
#include "reporters/diff_text.h"
#include "reporters/leaks/cycles_report.h"
#include "reporters/leaks/leak_report.h"
#include "reporters/leaks/leak_report_json.h"
#include "reporters/leaks/leak_report_text.h"
#include "reporters/statistics_json.h"
#include "reporters/top_text.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/statistics.h"
#include "snapshot/suppression_filter.h"

namespace heapsnap::fuzz {
namespace {

// Swallows what reports render: only that they render matters here.
class NullBuffer : public std::streambuf {
 protected:
  int_type overflow(int_type ch) override { return traits_type::not_eof(ch); }
  std::streamsize xsputn(const char*, std::streamsize count) override { return count; }
};

void render(const Reporter& reporter) {
  NullBuffer buffer;
  std::ostream out(&buffer);
  reporter.render(out);
}

std::string json_of(const Snapshot& snapshot) {
  std::ostringstream out;
  write_snapshot_json(snapshot, out);
  return out.str();
}

std::string cbor_of(const Snapshot& snapshot) {
  std::ostringstream out;
  write_snapshot_cbor(snapshot, out);
  return out.str();
}

}  // namespace

void check_accepted_snapshot(const Snapshot& snapshot) {
  // Whatever is read can be written, and what is written reads back to the same file (after one
  // write, which replaces invalid UTF-8 that CBOR strings may carry).
  // One copy at a time: a snapshot may legitimately expand to 64 MiB (docs/snapshot-format.md).
  const std::string json = json_of(snapshot);
  require(json_of(parse_snapshot(json, "<json>")) == json,
          "JSON written from a snapshot read back, differs when written again");
  require(json_of(parse_snapshot(cbor_of(snapshot), "<cbor>")) == json,
          "CBOR written from a snapshot reads back to another snapshot");

  // heapsnap stats, diff, check and cycles, every mode.
  for (const GroupBy group_by : {GroupBy::Lineno, GroupBy::Filename, GroupBy::Traceback}) {
    for (const bool cumulative : {false, true}) {
      if (cumulative && group_by == GroupBy::Traceback) continue;
      const StatisticsReportOptions options{group_by, cumulative, 10};
      render(TopTextReporter(statistics(snapshot, group_by, cumulative), options));
      render(StatisticsJsonReporter(statistics(snapshot, group_by, cumulative), options));
      const Snapshot empty;
      render(DiffTextReporter(compare_to(snapshot, empty, group_by, cumulative), options));
      render(DiffJsonReporter(compare_to(empty, snapshot, group_by, cumulative), options));
    }
  }
  const GateThresholds thresholds;
  render(LeakReportTextReporter(build_leak_report(snapshot, "s", thresholds)));
  render(LeakReportJsonReporter(build_leak_report(snapshot, "s", snapshot, "s", thresholds)));
  for (const bool reachable : {false, true}) {
    render(CyclesTextReporter(build_cycles_report(snapshot, "s", reachable, 3)));
    render(CyclesJsonReporter(build_cycles_report(snapshot, "s", reachable, 0)));
  }
  SuppressionList list;
  parse_suppressions("leak:main\ncycle:*.cpp:1?\ndirect:lib*.so*\nindirect:*", "fuzz.supp", list);
  const SuppressedSnapshot suppressed = apply_suppressions(snapshot, list);
  render(LeakReportTextReporter(build_leak_report(suppressed.snapshot, "s", thresholds)));
}

}  // namespace heapsnap::fuzz
