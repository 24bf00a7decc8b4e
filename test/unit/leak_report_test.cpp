// Leak sites, the gate, baselines, and the leak report's JSON and text.

#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "reporters/leaks/leak_report.h"
#include "reporters/leaks/leak_report_json.h"
#include "reporters/leaks/leak_report_text.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

const Traceback kWidget = stack({frame("src/widget.cpp", 12, "make_widget"), frame("src/main.cpp", 30, "main")});
const Traceback kCache = stack({frame("src/cache.cpp", 40, "Cache::put"), frame("src/main.cpp", 31, "main")});
const Traceback kNode = stack({frame("src/list.cpp", 7, "Node::Node")});

GateThresholds thresholds(std::uint64_t bytes, std::uint64_t blocks) {
  GateThresholds result;
  result.max_leaked_bytes = bytes;
  result.max_leaked_blocks = blocks;
  return result;
}

// After leak analysis: widget leaked directly twice, its nodes indirectly, a cycle, and reachable data.
Snapshot analysed() {
  return SnapshotBuilder()
      .leak_analysis(true)
      .add(0, 1024, kWidget, 1, Reachability::Direct)
      .add(1, 512, kWidget, 1, Reachability::Direct)  // another domain, same site
      .add(0, 96, kNode, 3, Reachability::Indirect)
      .add(0, 64, kCache, 2, Reachability::Cycle)
      .add(0, 4096, kCache, 1, Reachability::Reachable)
      .add(0, 64, kWidget, 1, Reachability::Indirect)  // same stack, other kind: another site
      .build();
}

std::string render(const Reporter& reporter) {
  std::ostringstream out;
  reporter.render(out);
  return out.str();
}

}  // namespace

TEST_CASE("with leak analysis, unreachable traces are leaks grouped by kind and stack", "[leaks]") {
  const std::vector<LeakSite> sites = collect_leak_sites(analysed());
  REQUIRE(sites.size() == 4);
  CHECK(sites[0].kind == LeakKind::Direct);
  CHECK(sites[0].traceback == kWidget);
  CHECK(sites[0].size == 1536);
  CHECK(sites[0].count == 2);
  CHECK(sites[1].kind == LeakKind::Indirect);
  CHECK(sites[1].traceback == kNode);
  CHECK(sites[1].size == 96);
  // 64 bytes twice: 2 blocks before 1 block.
  CHECK(sites[2].kind == LeakKind::Cycle);
  CHECK(sites[2].count == 2);
  CHECK(sites[3].kind == LeakKind::Indirect);
  CHECK(sites[3].traceback == kWidget);
  CHECK_FALSE(sites[0].baseline.has_value());
}

TEST_CASE("without leak analysis, every live block counts as still allocated", "[leaks]") {
  const Snapshot snapshot = SnapshotBuilder().add(0, 10, kWidget, 1).add(0, 30, kCache, 3).add(2, 5, kWidget, 1).build();
  const std::vector<LeakSite> sites = collect_leak_sites(snapshot);
  REQUIRE(sites.size() == 2);
  CHECK(sites[0].kind == LeakKind::Allocated);
  CHECK(sites[0].traceback == kCache);
  CHECK(sites[1].size == 15);
  CHECK(sites[1].count == 2);
  CHECK(leak_kind_name(LeakKind::Allocated) == "allocated");
}

TEST_CASE("equal leaks are ordered by stack, oldest frame first", "[leaks]") {
  const Traceback from_a = stack({frame("z.c", 1), frame("a.c", 1)});
  const Traceback from_b = stack({frame("a.c", 1), frame("b.c", 1)});
  const std::vector<LeakSite> sites = collect_leak_sites(SnapshotBuilder().add(0, 8, from_b).add(0, 8, from_a).build());
  REQUIRE(sites.size() == 2);
  CHECK(sites[0].traceback == from_a);
  CHECK(sites[1].traceback == from_b);
}

TEST_CASE("the gate fails when a total exceeds a threshold", "[leaks][gate]") {
  LeakTotals totals;
  totals.size = 1536;
  totals.count = 2;
  totals.sites = 1;

  const GateResult any_leak = evaluate_gate(totals, thresholds(0, 0), false);
  CHECK_FALSE(any_leak.passed);
  CHECK(any_leak.reasons == std::vector<std::string>{"2 leaked blocks (1536 B) exceed --max-leaked-blocks 0",
                                                     "1536 leaked bytes exceed --max-leaked-bytes 0"});

  CHECK(evaluate_gate(totals, thresholds(1536, 2), false).passed);  // the limits are inclusive
  const GateResult blocks_only = evaluate_gate(totals, thresholds(4096, 1), false);
  CHECK_FALSE(blocks_only.passed);
  CHECK(blocks_only.reasons == std::vector<std::string>{"2 leaked blocks (1536 B) exceed --max-leaked-blocks 1"});
  const GateResult bytes_only = evaluate_gate(totals, thresholds(1535, 10), false);
  CHECK(bytes_only.reasons == std::vector<std::string>{"1536 leaked bytes exceed --max-leaked-bytes 1535"});

  totals.size = 20480;
  totals.count = 1;
  CHECK(evaluate_gate(totals, thresholds(0, 0), true).reasons ==
        std::vector<std::string>{"1 new leaked block since the baseline (20.0 KiB) exceeds --max-leaked-blocks 0",
                                 "20480 new leaked bytes since the baseline (20.0 KiB) exceed --max-leaked-bytes 0"});
  CHECK(evaluate_gate(LeakTotals{}, thresholds(0, 0), false).passed);
}

TEST_CASE("a report without a baseline totals every leak", "[leaks]") {
  const LeakReport report = build_leak_report(analysed(), "run.json", thresholds(0, 0));
  CHECK(report.snapshot_path == "run.json");
  CHECK(report.leak_analysis);
  CHECK_FALSE(report.baseline_path.has_value());
  CHECK(report.totals.size == 1536 + 96 + 64 + 64);
  CHECK(report.totals.count == 2 + 3 + 2 + 1);
  CHECK(report.totals.sites == 4);
  CHECK_FALSE(report.gate.passed);
  CHECK(build_leak_report(analysed(), "run.json", thresholds(4096, 100)).gate.passed);
}

TEST_CASE("with a baseline only per-stack growth counts", "[leaks][baseline]") {
  const Snapshot baseline = SnapshotBuilder()
                                .leak_analysis(true)
                                .add(0, 1000, kWidget, 1, Reachability::Direct)
                                .add(0, 500, kCache, 5, Reachability::Cycle)
                                .build();
  const Snapshot current = SnapshotBuilder()
                               .leak_analysis(true)
                               .add(0, 1200, kWidget, 1, Reachability::Direct)   // grew by 200 bytes, 0 blocks
                               .add(0, 100, kWidget, 1, Reachability::Indirect)  // same stack: adds up with it
                               .add(0, 400, kCache, 4, Reachability::Cycle)      // shrank: not counted
                               .add(0, 96, kNode, 3, Reachability::Indirect)     // new
                               .build();
  const LeakReport report = build_leak_report(current, "new.json", baseline, "old.json", thresholds(0, 0));
  REQUIRE(report.leaks.size() == 2);
  CHECK(report.leaks[0].traceback == kWidget);
  CHECK(report.leaks[0].kind == LeakKind::Direct);  // the kind holding most of the leak
  CHECK(report.leaks[0].size == 300);
  CHECK(report.leaks[0].count == 1);
  REQUIRE(report.leaks[0].baseline.has_value());
  CHECK(report.leaks[0].baseline->size == 1000);
  CHECK(report.leaks[0].baseline->count == 1);
  CHECK(report.leaks[1].traceback == kNode);
  CHECK(report.leaks[1].size == 96);
  CHECK(report.leaks[1].baseline->size == 0);
  CHECK(report.totals.size == 396);
  CHECK(report.totals.count == 4);
  CHECK(report.baseline_path == std::optional<std::string>("old.json"));
  CHECK_FALSE(report.gate.passed);
  CHECK_THAT(report.gate.reasons[0], Catch::Contains("since the baseline"));

  // Nothing grew: the gate passes even though leaks remain.
  const LeakReport same = build_leak_report(baseline, "new.json", baseline, "old.json", thresholds(0, 0));
  CHECK(same.leaks.empty());
  CHECK(same.gate.passed);
}

TEST_CASE("the leak report as JSON follows schema v1", "[leaks][json]") {
  std::ostringstream out;
  LeakReportJsonReporter(build_leak_report(analysed(), "run.json", thresholds(100, 5))).render(out);
  const nlohmann::json report = nlohmann::json::parse(out.str());
  CHECK(report["format"] == "heapsnap-leak-report");
  CHECK(report["version"] == 1);
  CHECK(report["snapshot"] == "run.json");
  CHECK(report["leak_analysis"] == true);
  REQUIRE(report["leaks"].size() == 4);
  CHECK(report["leaks"][0] == nlohmann::json::parse(R"({"kind": "direct", "size": 1536, "count": 2, "traceback": [
      {"filename": "src/widget.cpp", "lineno": 12, "function": "make_widget"},
      {"filename": "src/main.cpp", "lineno": 30, "function": "main"}]})"));
  CHECK(report["leaks"][2]["kind"] == "cycle");
  CHECK(report["totals"] == nlohmann::json::parse(R"({"size": 1760, "count": 8, "sites": 4, "cycles": 0, "free_errors": 0})"));
  CHECK(report["cycles"] == nlohmann::json::array());  // cycle traces, but no cycles recorded
  CHECK(report["cycle_shapes"] == nlohmann::json::array());
  CHECK(report["gate"] == nlohmann::json::parse(R"({"max_leaked_bytes": 100, "max_leaked_blocks": 5, "max_free_errors": 0,
      "max_cycles": null, "baseline": null, "passed": false, "reasons": [
      "8 leaked blocks (1760 B) exceed --max-leaked-blocks 5", "1760 leaked bytes exceed --max-leaked-bytes 100"]})"));
}

TEST_CASE("the leak report as JSON with a baseline", "[leaks][json]") {
  const Snapshot baseline = SnapshotBuilder().add(0, 10, kWidget).build();
  const Snapshot current = SnapshotBuilder().add(0, 30, kWidget, 2).build();
  std::ostringstream out;
  LeakReportJsonReporter(build_leak_report(current, "new.json", baseline, "old.json", thresholds(0, 5))).render(out);
  const nlohmann::json report = nlohmann::json::parse(out.str());
  CHECK(report["leak_analysis"] == false);
  CHECK(report["leaks"][0]["kind"] == "allocated");
  CHECK(report["leaks"][0]["size"] == 20);
  CHECK(report["leaks"][0]["count"] == 1);
  CHECK(report["leaks"][0]["baseline"] == nlohmann::json::parse(R"({"size": 10, "count": 1})"));
  CHECK(report["gate"]["baseline"] == "old.json");
  CHECK(report["gate"]["passed"] == false);
}

TEST_CASE("the leak report as text: verdict, reasons, sites with their stacks", "[leaks][text]") {
  const std::string text = render(LeakReportTextReporter(build_leak_report(analysed(), "run.json", thresholds(0, 0))));
  CHECK_THAT(text, Catch::StartsWith("heapsnap check: FAILED\n"
                                     "  8 leaked blocks (1760 B) exceed --max-leaked-blocks 0\n"
                                     "  1760 leaked bytes exceed --max-leaked-bytes 0\n"
                                     "\n"
                                     "Snapshot: run.json\n"
                                     "Leak analysis: yes, unreachable blocks are leaks\n"
                                     "Leaked: 1760 B in 8 blocks at 4 sites\n"
                                     "\n"
                                     "#1: direct leak: 1536 B in 2 blocks\n"
                                     "    at src/widget.cpp:12 (make_widget)\n"
                                     "       src/main.cpp:30 (main)\n"
                                     "\n"
                                     "#2: indirect leak: 96 B in 3 blocks\n"
                                     "    at src/list.cpp:7 (Node::Node)\n"));
  CHECK_THAT(text, Catch::Contains("#3: leaked cycle: 64 B in 2 blocks\n"));
}

TEST_CASE("the leak report as text when the gate passes or nothing leaked", "[leaks][text]") {
  const std::string passed = render(LeakReportTextReporter(build_leak_report(analysed(), "run.json", thresholds(4096, 8))));
  CHECK_THAT(passed, Catch::StartsWith("heapsnap check: PASSED\n"
                                       "  8 blocks (1760 B) within --max-leaked-blocks 8 and --max-leaked-bytes 4096\n"));
  const std::string clean = render(LeakReportTextReporter(build_leak_report(Snapshot{}, "clean.json", thresholds(0, 0))));
  CHECK_THAT(clean, Catch::StartsWith("heapsnap check: PASSED\n"));
  CHECK_THAT(clean, Catch::Contains("Leak analysis: no, every block still allocated counts as leaked\nNo leaks.\n"));
}

TEST_CASE("the leak report says when threads went unscanned or signals stopped them", "[leaks][text][json]") {
  Snapshot snapshot = analysed();
  snapshot.thread_stop = ThreadStop{StopMethod::Ptrace, "", 4, 0};
  const std::string complete = render(LeakReportTextReporter(build_leak_report(snapshot, "run.json", thresholds(0, 0))));
  CHECK_THAT(complete, !Catch::Contains("Note:"));
  auto json = nlohmann::json::parse(render(LeakReportJsonReporter(build_leak_report(snapshot, "run.json", thresholds(0, 0)))));
  CHECK(json["thread_stop"] == nlohmann::json::parse(R"({"method": "ptrace", "fallback_reason": "", "threads_scanned": 4,
                                                          "threads_unscanned": 0, "warning": null})"));

  snapshot.thread_stop = ThreadStop{StopMethod::Signals, "ptrace not permitted: PTRACE_SEIZE of thread 9: Operation not permitted", 3, 2};
  const std::string expected =
      "leak verdict may be incomplete: 2 threads could not be stopped (signals: ptrace not permitted: PTRACE_SEIZE of "
      "thread 9: Operation not permitted)";
  const std::string incomplete = render(LeakReportTextReporter(build_leak_report(snapshot, "run.json", thresholds(0, 0))));
  CHECK_THAT(incomplete, Catch::Contains("Leak analysis: yes, unreachable blocks are leaks\nNote: " + expected + "\n"));
  json = nlohmann::json::parse(render(LeakReportJsonReporter(build_leak_report(snapshot, "run.json", thresholds(0, 0)))));
  CHECK(json["thread_stop"]["warning"] == expected);
  CHECK(json["thread_stop"]["threads_unscanned"] == 2);

  snapshot.thread_stop = ThreadStop{StopMethod::Signals, "HEAPSNAP_STOP_METHOD=signals", 3, 0};
  CHECK(incomplete_verdict_warning(*snapshot.thread_stop) ==
        "every thread was scanned, but by the fallback method (signals: HEAPSNAP_STOP_METHOD=signals)");
  snapshot.thread_stop.reset();
  json = nlohmann::json::parse(render(LeakReportJsonReporter(build_leak_report(snapshot, "run.json", thresholds(0, 0)))));
  CHECK(json["thread_stop"].is_null());
}

TEST_CASE("the leak report as text with a baseline, and a limited number of sites", "[leaks][text]") {
  const Snapshot baseline = SnapshotBuilder().add(0, 10, kWidget).build();
  const Snapshot current = SnapshotBuilder().add(0, 30, kWidget, 2).add(0, 8, kNode).add(0, 4, kCache).build();
  const std::string text =
      render(LeakReportTextReporter(build_leak_report(current, "new.json", baseline, "old.json", thresholds(0, 0)), 2));
  CHECK_THAT(text, Catch::Contains("Baseline: old.json (only growth since it counts)\n"));
  CHECK_THAT(text, Catch::Contains("#1: still allocated: grew by 20 B in 1 block (baseline: 10 B in 1 block)\n"));
  CHECK_THAT(text, Catch::Contains("#2: still allocated: new, 8 B in 1 block\n"));
  CHECK_THAT(text, !Catch::Contains("#3:"));
  CHECK_THAT(text, Catch::EndsWith("... and 1 more site (--format json lists all)\n"));
}

TEST_CASE("memory allocated before tracing started is counted apart and never gated", "[leaks]") {
  Snapshot snapshot = analysed();
  const Traceback before = stack({frame("<allocated before tracing started>", 0)});
  snapshot = SnapshotBuilder()
                 .leak_analysis(true)
                 .add(0, 1024, kWidget, 1, Reachability::Direct)
                 .add(0, 300, before, 3, Reachability::Direct)
                 .add(0, 700, before, 7, Reachability::Reachable)
                 .build();
  for (Trace& trace : snapshot.traces) trace.before_tracing = snapshot.tracebacks[static_cast<std::uint32_t>(trace.traceback)] == before;
  const LeakReport report = build_leak_report(snapshot, "run.json", thresholds(1024, 1));
  CHECK(report.gate.passed);  // the widget's block only: 1024 bytes, 1 block
  CHECK(report.totals.count == 1);
  REQUIRE(report.leaks.size() == 1);
  CHECK(report.leaks[0].traceback == kWidget);
  CHECK(report.before_tracing.size == 1000);
  CHECK(report.before_tracing.count == 10);
  CHECK(report.before_tracing.unreachable_size == 300);
  CHECK(report.before_tracing.unreachable_count == 3);

  std::ostringstream json_text;
  LeakReportJsonReporter(report).render(json_text);
  const auto json = nlohmann::json::parse(json_text.str());
  CHECK(json["before_tracing"]["unreachable_count"] == 3);
  CHECK(json["totals"]["count"] == 1);
  const std::string text = render(LeakReportTextReporter(report));
  CHECK(text.find("Allocated before tracing started: 1000 B in 10 blocks, of which 300 B in 3 blocks unreachable "
                  "(no stack: not counted by the gate)") != std::string::npos);
}
