// `heapsnap cycles` and `heapsnap check --max-cycles` on snapshot files with cycles: output, limits,
// exit codes.

#include "test/cli/cli_test_support.h"

namespace {

struct CycleFiles {
  TempDirectory directory;
  std::string cycles = (directory / "cycles.json").string();
  std::string no_analysis = (directory / "no-analysis.json").string();

  CycleFiles() {
    save_snapshot(heapsnap::test::snapshot_with_cycles(), cycles);
    Snapshot plain = heapsnap::test::SnapshotBuilder().add(0, 64, heapsnap::test::kPlainLeak).build();
    save_snapshot(plain, no_analysis);
  }
};

}  // namespace

TEST_CASE("heapsnap check --max-cycles gates on the number of leaked cycles", "[cli][check][cycles]") {
  CycleFiles files;
  // 6 leaked cycles of 11 blocks (528 B), and 2 plain leaks (128 B).
  const auto over = run_heapsnap({"check", files.cycles, "--max-cycles", "5", "--max-leaked-blocks", "13",
                                  "--max-leaked-bytes", "656"});
  CHECK(over.exit_code == 1);
  CHECK(over.err == "heapsnap: check failed: 6 leaked cycles exceed --max-cycles 5\n");

  const auto within = run_heapsnap({"check", files.cycles, "--max-cycles", "6", "--max-leaked-blocks", "13",
                                    "--max-leaked-bytes", "656"});
  CHECK(within.exit_code == 0);
  CHECK_THAT(within.out, Catch::Contains("13 blocks (656 B) within --max-leaked-blocks 13 and --max-leaked-bytes 656, "
                                         "6 cycles within --max-cycles 6\n"));

  // The members of the cycles are leaked blocks for the other limits, whatever --max-cycles allows.
  const auto blocks = run_heapsnap({"check", files.cycles, "--max-cycles", "100", "--max-leaked-bytes", "656"});
  CHECK(blocks.exit_code == 1);
  CHECK(blocks.err == "heapsnap: check failed: 13 leaked blocks (656 B) exceed --max-leaked-blocks 0\n");

  const auto json = run_heapsnap({"check", files.cycles, "--format", "json", "--max-cycles", "0"});
  CHECK(json.exit_code == 1);
  const nlohmann::json report = nlohmann::json::parse(json.out);
  CHECK(report["gate"]["max_cycles"] == 0);
  CHECK(report["totals"]["cycles"] == 6);
  CHECK(report["cycles"].size() == 6);

  for (const char* bad : {"-1", "many", ""}) {
    INFO("--max-cycles '" << bad << "'");
    const auto usage = run_heapsnap({"check", files.cycles, "--max-cycles", bad});
    CHECK(usage.exit_code == 2);
    CHECK_THAT(usage.err, Catch::StartsWith("heapsnap: error: "));
  }
  CHECK_THAT(run_heapsnap({"check", "--help"}).out, Catch::Contains("--max-cycles"));
}

TEST_CASE("heapsnap cycles lists the leaked cycles by shape", "[cli][cycles]") {
  CycleFiles files;
  const auto text = run_heapsnap({"cycles", files.cycles});
  CHECK(text.exit_code == 0);
  CHECK(text.err.empty());
  CHECK_THAT(text.out, Catch::StartsWith("Leaked cycles in " + files.cycles + ": 6 cycles, 528 B in 11 blocks, 3 shapes\n"
                                         "\n"
                                         "#1: 3 cycles of 2 blocks (96 B each): block at src/node.cpp:31 (make_node) ↔ "
                                         "block at src/node.cpp:31 (make_node)\n"
                                         "    block 1 (48 B) points to block 2 (offsets 16, 24)\n"
                                         "        at src/node.cpp:31 (make_node)\n"
                                         "           src/node.cpp:37 (make_ring)\n"));
  CHECK_THAT(text.out, Catch::Contains("\n#2: 1 cycle of 3 blocks (144 B): "));
  CHECK_THAT(text.out, Catch::Contains("\n#3: 2 self-cycles (48 B each): block at src/node.cpp:31 (make_node) → itself\n"));
  CHECK_THAT(text.out, !Catch::Contains("4 blocks"));  // the reachable ring is not a leak

  const auto limited = run_heapsnap({"cycles", files.cycles, "--limit", "1"});
  CHECK_THAT(limited.out, !Catch::Contains("#2:"));
  CHECK_THAT(limited.out, Catch::EndsWith("\n2 other shapes: 3 cycles, 240 B in 5 blocks (--limit 0 shows all)\n"));
  CHECK_THAT(run_heapsnap({"cycles", files.cycles, "--limit", "0"}).out, Catch::Contains("#3:"));
}

TEST_CASE("heapsnap cycles --reachable lists the cycles that are not leaks", "[cli][cycles]") {
  CycleFiles files;
  const auto text = run_heapsnap({"cycles", files.cycles, "--reachable"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("Reachable cycles (not leaks) in " + files.cycles +
                                         ": 1 cycle, 192 B in 4 blocks, 1 shape\n\n"
                                         "#1: 1 cycle of 4 blocks (192 B): block at src/node.cpp:31 (make_node) → "));
  CHECK_THAT(text.out, Catch::Contains("    block 4 (48 B) points to block 1 (offsets 16, 24)\n"));

  Snapshot none = heapsnap::test::snapshot_with_cycles();
  std::erase_if(none.cycles, [](const Cycle& cycle) { return cycle.reachable; });
  const std::string path = (files.directory / "none.json").string();
  save_snapshot(none, path);
  CHECK(run_heapsnap({"cycles", path, "--reachable"}).out ==
        "No reachable cycles recorded in " + path +
            ". They are recorded only when the program runs with HEAPSNAP_REACHABLE_CYCLES=1.\n");
}

TEST_CASE("heapsnap cycles --format json", "[cli][cycles]") {
  CycleFiles files;
  const auto result = run_heapsnap({"cycles", files.cycles, "--format", "json", "--limit", "2"});
  CHECK(result.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(result.out);
  CHECK(report["format"] == "heapsnap-cycles");
  CHECK(report["version"] == 1);
  CHECK(report["snapshot"] == files.cycles);
  CHECK(report["leak_analysis"] == true);
  CHECK(report["reachable"] == false);
  CHECK(report["totals"] == nlohmann::json::parse(R"({"cycles": 6, "shapes": 3, "blocks": 11, "bytes": 528})"));
  REQUIRE(report["shapes"].size() == 2);  // --limit applies to the shapes, not to the totals
  const nlohmann::json& pairs = report["shapes"][0];
  CHECK(pairs["count"] == 3);
  CHECK(pairs["bytes"] == 288);
  CHECK(pairs["blocks"] == 6);
  CHECK(pairs["same_wiring"] == true);
  CHECK(pairs["members"][1]["traceback"][1] ==
        nlohmann::json::parse(R"({"filename": "src/node.cpp", "lineno": 40, "function": "make_ring"})"));
  REQUIRE(pairs["cycles"].size() == 3);
  CHECK(pairs["cycles"][0] == nlohmann::json::parse(R"({"members": [{"address": "0x10000", "size": 48},
      {"address": "0x10030", "size": 48}], "edges": [{"from": 0, "to": 1, "offset": 16}, {"from": 0, "to": 1, "offset": 24},
      {"from": 1, "to": 0, "offset": 16}, {"from": 1, "to": 0, "offset": 24}], "bytes": 96})"));

  const nlohmann::json reachable = nlohmann::json::parse(run_heapsnap({"cycles", files.cycles, "--reachable", "--format", "json"}).out);
  CHECK(reachable["reachable"] == true);
  CHECK(reachable["totals"]["cycles"] == 1);
  CHECK(reachable["shapes"][0]["members"].size() == 4);
}

TEST_CASE("heapsnap cycles on snapshots without cycles, and its usage errors", "[cli][cycles]") {
  CycleFiles files;
  const auto no_analysis = run_heapsnap({"cycles", files.no_analysis});
  CHECK(no_analysis.exit_code == 0);
  CHECK_THAT(no_analysis.out, Catch::StartsWith("No leak analysis ran for " + files.no_analysis));
  const nlohmann::json empty = nlohmann::json::parse(run_heapsnap({"cycles", files.no_analysis, "--format", "json"}).out);
  CHECK(empty["leak_analysis"] == false);
  CHECK(empty["shapes"] == nlohmann::json::array());

  Snapshot clean = heapsnap::test::snapshot_with_cycles({0, 0, 0});
  const std::string path = (files.directory / "clean.json").string();
  save_snapshot(clean, path);
  CHECK(run_heapsnap({"cycles", path}).out == "No leaked cycles in " + path + ".\n");

  const std::vector<std::vector<std::string>> bad_command_lines = {
      {"cycles"},
      {"cycles", files.cycles, "--limit", "-1"},
      {"cycles", files.cycles, "--format", "xml"},
      {"cycles", files.cycles, "--reachable=maybe"},
      {"cycles", (files.directory / "missing.json").string()},
  };
  check_refused(bad_command_lines);
  const auto help = run_heapsnap({"cycles", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--reachable"));
  CHECK_THAT(run_heapsnap({"--help"}).out, Catch::Contains("cycles"));
}
