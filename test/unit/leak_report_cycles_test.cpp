// Reference cycles in the leak report: JSON cycles and shapes, the --max-cycles gate, baselines, and
// the text that prints each shape once before the other leaks.

#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "reporters/leaks/leak_report.h"
#include "reporters/leaks/leak_report_json.h"
#include "reporters/leaks/leak_report_text.h"
#include "snapshot/snapshot_json.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

GateThresholds limits(std::uint64_t bytes, std::uint64_t blocks, std::optional<std::uint64_t> cycles) {
  GateThresholds result;
  result.max_leaked_bytes = bytes;
  result.max_leaked_blocks = blocks;
  result.max_cycles = cycles;
  return result;
}

std::string text_of(const LeakReport& report) {
  std::ostringstream out;
  LeakReportTextReporter(report).render(out);
  return out.str();
}

nlohmann::json json_of(const LeakReport& report) {
  std::ostringstream out;
  LeakReportJsonReporter(report).render(out);
  return nlohmann::json::parse(out.str());
}

}  // namespace

TEST_CASE("the leak report lists the unreachable cycles by shape", "[leaks][cycles]") {
  const LeakReport report = build_leak_report(snapshot_with_cycles(), "run.json", limits(0, 0, std::nullopt));
  REQUIRE(report.cycles.size() == 3);
  CHECK(report.cycles[0].shape.count() == 3);
  CHECK(report.cycles[1].shape.count() == 1);
  CHECK(report.cycles[2].shape.count() == 2);
  CHECK(report.totals.cycles == 6);
  // Cycle members are leaked blocks like any other: 6 + 5 in cycles, 2 plain.
  CHECK(report.totals.count == 13);
  CHECK(report.totals.size == 288 + 240 + 128);
}

TEST_CASE("the --max-cycles gate fails when more cycles leaked, and only then", "[leaks][cycles][gate]") {
  const Snapshot snapshot = snapshot_with_cycles();
  const LeakReport over = build_leak_report(snapshot, "run.json", limits(10000, 100, 5));
  CHECK_FALSE(over.gate.passed);
  CHECK(over.gate.reasons == std::vector<std::string>{"6 leaked cycles exceed --max-cycles 5"});
  CHECK(build_leak_report(snapshot, "run.json", limits(10000, 100, 6)).gate.passed);
  CHECK(build_leak_report(snapshot, "run.json", limits(10000, 100, std::nullopt)).gate.passed);
  // The byte and block limits still see the cycles' members.
  const LeakReport blocks = build_leak_report(snapshot, "run.json", limits(10000, 12, 6));
  CHECK(blocks.gate.reasons == std::vector<std::string>{"13 leaked blocks (656 B) exceed --max-leaked-blocks 12"});

  LeakTotals one;
  one.cycles = 1;
  CHECK(evaluate_gate(one, limits(0, 0, 0), false).reasons == std::vector<std::string>{"1 leaked cycle exceeds --max-cycles 0"});
  CHECK(evaluate_gate(one, limits(0, 0, 0), true).reasons ==
        std::vector<std::string>{"1 new leaked cycle since the baseline exceeds --max-cycles 0"});
}

TEST_CASE("the leak report as JSON: cycles with their shape, shapes, and kinds", "[leaks][cycles][json]") {
  const nlohmann::json report = json_of(build_leak_report(snapshot_with_cycles(), "run.json", limits(0, 0, 7)));
  CHECK(report["totals"]["cycles"] == 6);
  CHECK(report["gate"]["max_cycles"] == 7);
  CHECK(report["gate"]["passed"] == false);
  std::vector<std::string> kinds;
  for (const auto& leak : report["leaks"]) kinds.push_back(leak["kind"]);
  CHECK(kinds == std::vector<std::string>{"cycle", "cycle", "direct"});

  REQUIRE(report["cycles"].size() == 6);
  const nlohmann::json& pair = report["cycles"][0];
  CHECK(pair["shape"] == 0);
  CHECK(pair["bytes"] == 96);
  REQUIRE(pair["members"].size() == 2);
  CHECK(pair["members"][0]["address"] == "0x10000");
  CHECK(pair["members"][0]["size"] == 48);
  CHECK(pair["members"][0]["traceback"] == nlohmann::json::parse(R"([
      {"filename": "src/node.cpp", "lineno": 31, "function": "make_node"},
      {"filename": "src/node.cpp", "lineno": 37, "function": "make_ring"}])"));
  CHECK(pair["members"][1]["traceback"][1]["lineno"] == 40);
  CHECK(pair["edges"] == nlohmann::json::parse(R"([{"from": 0, "to": 1, "offset": 16}, {"from": 0, "to": 1, "offset": 24},
      {"from": 1, "to": 0, "offset": 16}, {"from": 1, "to": 0, "offset": 24}])"));
  CHECK(report["cycles"][3]["shape"] == 1);
  CHECK(report["cycles"][3]["members"].size() == 3);
  CHECK(report["cycles"][5]["shape"] == 2);
  CHECK(report["cycles"][5]["members"].size() == 1);

  REQUIRE(report["cycle_shapes"].size() == 3);
  const nlohmann::json& shape = report["cycle_shapes"][0];
  CHECK(shape["count"] == 3);
  CHECK(shape["bytes"] == 288);
  CHECK(shape["blocks"] == 6);
  CHECK(shape["same_wiring"] == true);
  CHECK(shape["members"].size() == 2);
  CHECK(shape["edges"] == pair["edges"]);
  CHECK_FALSE(shape.contains("baseline"));
}

TEST_CASE("the leak report as text: each cycle shape once, then the other leaks", "[leaks][cycles][text]") {
  const std::string text = text_of(build_leak_report(snapshot_with_cycles(), "run.json", limits(0, 0, std::nullopt)));
  CHECK_THAT(text, Catch::Contains("Leaked: 656 B in 13 blocks at 3 sites\n"
                                   "Leaked cycles: 6, 3 shapes (528 B in 11 blocks)\n"
                                   "\n"
                                   "3 cycles of 2 blocks (96 B each): block at src/node.cpp:31 (make_node) ↔ block at "
                                   "src/node.cpp:31 (make_node)\n"
                                   "    block 1 (48 B) points to block 2 (offsets 16, 24)\n"
                                   "        at src/node.cpp:31 (make_node)\n"
                                   "           src/node.cpp:37 (make_ring)\n"
                                   "    block 2 (48 B) points to block 1 (offsets 16, 24)\n"
                                   "        at src/node.cpp:31 (make_node)\n"
                                   "           src/node.cpp:40 (make_ring)\n"
                                   "\n"
                                   "1 cycle of 3 blocks (144 B): block at src/node.cpp:31 (make_node) → block at "
                                   "src/node.cpp:31 (make_node) → block at src/node.cpp:31 (make_node) → back to the first\n"));
  CHECK_THAT(text, Catch::Contains("\n2 self-cycles (48 B each): block at src/node.cpp:31 (make_node) → itself\n"
                                   "    block 1 (48 B) points to itself (offsets 16, 24)\n"));
  CHECK_THAT(text, Catch::EndsWith("Leaks outside cycles: 128 B in 2 blocks at 1 site\n"
                                   "\n"
                                   "#1: direct leak: 128 B in 2 blocks\n"
                                   "    at src/plain.cpp:9 (leak_plain)\n"));
  CHECK_THAT(text, !Catch::Contains("leaked cycle:"));  // the members' sites are not listed again
  CHECK_THAT(text, !Catch::Contains("4 blocks"));      // nor the reachable ring
}

TEST_CASE("without recorded cycles, cycle members are listed as sites", "[leaks][cycles][text]") {
  Snapshot snapshot = snapshot_with_cycles();
  snapshot.cycles.clear();
  const std::string text = text_of(build_leak_report(snapshot, "old.json", limits(0, 0, std::nullopt)));
  CHECK_THAT(text, Catch::Contains("#1: leaked cycle: 288 B in 6 blocks\n"));
  CHECK_THAT(text, !Catch::Contains("Leaks outside cycles"));
}

TEST_CASE("with a baseline, cycles count by how many more there are of a shape", "[leaks][cycles][baseline]") {
  heapsnap::test::CycleCounts before;
  before.pairs = 2;
  before.triangles = 0;
  before.self_cycles = 3;
  const LeakReport report = build_leak_report(snapshot_with_cycles(), "new.json", snapshot_with_cycles(before), "old.json", limits(0, 0, 0));
  REQUIRE(report.cycles.size() == 2);  // the self-cycles did not grow
  CHECK(report.cycles[0].baseline == std::optional<std::uint64_t>(2));
  CHECK(report.cycles[0].counted() == 1);
  CHECK(report.cycles[1].baseline == std::optional<std::uint64_t>(0));
  CHECK(report.totals.cycles == 2);
  CHECK_THAT(report.gate.reasons.back(), Catch::Equals("2 new leaked cycles since the baseline exceed --max-cycles 0"));

  const nlohmann::json json = json_of(report);
  CHECK(json["cycle_shapes"][0]["count"] == 3);
  CHECK(json["cycle_shapes"][0]["baseline"] == nlohmann::json::parse(R"({"count": 2})"));
  CHECK(json["cycle_shapes"][0]["growth"] == 1);
  CHECK(json["cycles"].size() == 4);  // every cycle of the shapes that grew

  const std::string text = text_of(report);
  CHECK_THAT(text, Catch::Contains("Leaked cycles: 2 more than in the baseline, 2 shapes"));
  CHECK_THAT(text, Catch::Contains("\ngrew by 1 (baseline: 2): 3 cycles of 2 blocks (96 B each): "));
  CHECK_THAT(text, Catch::Contains("\nnew: 1 cycle of 3 blocks (144 B): "));
}

TEST_CASE("cycles from the precise collector: unknown offsets, sizes that differ", "[leaks][cycles][text]") {
  Snapshot snapshot = SnapshotBuilder().leak_analysis(true).add(0, 160, kFirstNode, 3, Reachability::Cycle).build();
  Cycle small;
  small.members = {{0x100, 32, TracebackIndex{0}}, {0x200, 32, TracebackIndex{0}}};
  small.edges = {{0, 1, 8}, {1, 0, kUnknownEdgeOffset}};
  small.bytes = 64;
  Cycle large = small;
  large.members[0] = {0x300, 96, TracebackIndex{0}};
  large.bytes = 128;
  snapshot.cycles = {small, large};
  const LeakReport report = build_leak_report(snapshot, "gc.json", limits(0, 0, std::nullopt));
  const std::string text = text_of(report);
  CHECK_THAT(text, Catch::Contains("\n2 cycles of 2 blocks (192 B in all): block at src/node.cpp:31 (make_node) ↔ "));
  CHECK_THAT(text, Catch::Contains("    block 1 (32 B to 96 B) points to block 2 (offset 8)\n"));
  CHECK_THAT(text, Catch::Contains("    block 2 (32 B) points to block 1 (offset unknown)\n"));
  CHECK(json_of(report)["cycles"][0]["edges"][1]["offset"].is_null());
}

TEST_CASE("large cycles are described by site", "[leaks][cycles][text]") {
  Snapshot snapshot = SnapshotBuilder().leak_analysis(true).add(0, 480, kFirstNode, 10, Reachability::Cycle).build();
  add_ring(snapshot, 0x1000, {kFirstNode, kFirstNode, kFirstNode, kFirstNode, kFirstNode, kFirstNode, kFirstNode,
                              kFirstNode, kFirstNode, kFirstNode});
  const std::string text = text_of(build_leak_report(snapshot, "list.json", limits(0, 0, std::nullopt)));
  CHECK_THAT(text, Catch::Contains("\n1 cycle of 10 blocks (480 B): 10 blocks at src/node.cpp:31 (make_node)\n"
                                   "    10 blocks of each cycle\n"
                                   "        at src/node.cpp:31 (make_node)\n"
                                   "           src/node.cpp:37 (make_ring)\n"
                                   "    20 pointers between the blocks of each cycle\n"));
}
