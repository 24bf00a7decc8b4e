// The report commands of the built `heapsnap` binary: output, exit codes 0/1/2, error messages.

#include "test/cli/cli_test_support.h"

namespace {

// Snapshot files for the tests: create_snapshots()'s pair, and a leaky program before/after a change.
struct Files {
  TempDirectory directory;
  std::string old_snapshot = (directory / "old.json").string();
  std::string new_snapshot = (directory / "new.json").string();
  std::string leaky = (directory / "leaky.json").string();
  std::string leakier = (directory / "leakier.json").string();

  Files() {
    const auto [first, second] = heapsnap::test::create_snapshots();
    save_snapshot(first, old_snapshot);
    save_snapshot(second, new_snapshot);
    const Traceback site = stack({frame("src/widget.cpp", 12, "make_widget"), frame("src/main.cpp", 30, "main")});
    const Traceback other = stack({frame("src/cache.cpp", 40, "Cache::put")});
    save_snapshot(SnapshotBuilder()
                      .leak_analysis(true)
                      .add(0, 1536, site, 2, Reachability::Direct)
                      .add(0, 4096, other, 1, Reachability::Reachable)
                      .build(),
                  leaky);
    save_snapshot(SnapshotBuilder()
                      .leak_analysis(true)
                      .add(0, 2048, site, 3, Reachability::Direct)
                      .add(0, 64, other, 1, Reachability::Indirect)
                      .build(),
                  leakier);
  }
};

}  // namespace

TEST_CASE("heapsnap --help lists the commands; every command has --help", "[cli]") {
  const auto help = run_heapsnap({"--help"});
  CHECK(help.exit_code == 0);
  for (const char* command : {"stats", "diff", "check", "run"}) CHECK_THAT(help.out, Catch::Contains(command));

  const std::pair<const char*, const char*> commands[] = {
      {"stats", "--by"}, {"diff", "--cumulative"}, {"check", "--max-leaked-bytes"}, {"run", "--depth"}};
  for (const auto& [command, option] : commands) {
    INFO(command);
    const auto result = run_heapsnap({command, "--help"});
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Catch::Contains(option));
  }
  CHECK_THAT(run_heapsnap({"stats", "--help"}).out, Catch::Contains("--format"));
  CHECK(run_heapsnap({"--version"}).exit_code == 0);
}

TEST_CASE("usage errors exit 2 with a message on stderr", "[cli]") {
  Files files;
  const std::vector<std::vector<std::string>> bad_command_lines = {
      {},
      {"frobnicate"},
      {"stats"},
      {"stats", files.new_snapshot, "--bogus"},
      {"stats", files.new_snapshot, "--by", "function"},
      {"stats", files.new_snapshot, "--limit", "-1"},
      {"stats", files.new_snapshot, "--limit", "many"},
      {"stats", files.new_snapshot, "--format", "xml"},
      {"stats", files.new_snapshot, "--by", "traceback", "--cumulative"},
      {"diff", files.old_snapshot},
      {"check", files.leaky, "--max-leaked-bytes", "-5"},
      {"run", "--depth", "0", "--", "true"},
      {"run", "--depth", "129", "--", "true"},
  };
  check_refused(bad_command_lines);
  CHECK(run_heapsnap({"stats", files.new_snapshot, "--by", "traceback", "--cumulative"}).err ==
        "heapsnap: error: --cumulative cannot be used with --by traceback\n");
}

TEST_CASE("input errors exit 2 naming the file, the position and the reason", "[cli]") {
  TempDirectory directory;
  const std::string missing = (directory / "missing.json").string();
  CHECK(run_heapsnap({"stats", missing}).err == "heapsnap: error: " + missing + ": No such file or directory\n");
  CHECK(run_heapsnap({"check", missing}).exit_code == 2);

  const std::string corrupt = (directory / "corrupt.json").string();
  heapsnap::test::write_text_file(corrupt, "{\"format\": \"heapsnap-snapshot\",\n \"version\": 1,\n \"traces\": [");
  const auto truncated = run_heapsnap({"stats", corrupt});
  CHECK(truncated.exit_code == 2);
  CHECK_THAT(truncated.err, Catch::StartsWith("heapsnap: error: " + corrupt + ": line 3, column 13 (byte 59): truncated JSON"));

  const std::string wrong = (directory / "wrong.json").string();
  heapsnap::test::write_text_file(wrong, R"({"format": "heapsnap-snapshot", "version": 1, "traceback_limit": 1,
      "frames": [], "tracebacks": [{"frames": []}], "traces": [{"traceback": 0, "size": -1, "count": 1}]})");
  const auto schema = run_heapsnap({"diff", wrong, wrong});
  CHECK(schema.exit_code == 2);
  CHECK_THAT(schema.err, Catch::StartsWith("heapsnap: error: " + wrong + ": /traces/0/size: expected a non-negative integer"));

  Files files;
  const auto bad_baseline = run_heapsnap({"check", files.leaky, "--baseline", missing});
  CHECK(bad_baseline.exit_code == 2);
  CHECK_THAT(bad_baseline.err, Catch::Contains(missing));
}

TEST_CASE("heapsnap stats prints the top sites", "[cli]") {
  Files files;
  const auto text = run_heapsnap({"stats", files.old_snapshot, "--limit", "2"});
  CHECK(text.exit_code == 0);
  CHECK(text.out ==
        "Top 2 lines\n"
        "#1: b.py:1: size=66 B, count=1, average=66 B\n"
        "#2: a.py:2: size=30 B, count=3, average=10 B\n"
        "2 other: size=9 B, count=2, average=4 B\n"
        "Total allocated size: 105 B\n");
  CHECK(text.err.empty());

  const auto json = run_heapsnap({"stats", files.old_snapshot, "--by", "filename", "--cumulative", "--format", "json"});
  CHECK(json.exit_code == 0);
  const nlohmann::json list = nlohmann::json::parse(json.out);
  REQUIRE(list.size() == 3);
  CHECK(list[0]["traceback"][0]["filename"] == "b.py");
  CHECK(list[0]["size"] == 98);
  CHECK(list[0]["count"] == 5);
}

TEST_CASE("heapsnap diff prints compare_to's differences", "[cli]") {
  Files files;
  const auto text = run_heapsnap({"diff", files.old_snapshot, files.new_snapshot, "--limit", "1"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("Top 1 difference by line\n"
                                         "#1: a.py:5: size=5002 B (+5000 B), count=2 (+1), average=2501 B\n"
                                         "4 other: "));
  const auto json = run_heapsnap({"diff", files.old_snapshot, files.new_snapshot, "--by", "traceback", "--format", "json"});
  const nlohmann::json list = nlohmann::json::parse(json.out);
  REQUIRE(list.size() == 5);
  CHECK(list[2]["size_diff"] == -66);
  CHECK(list[2]["count_diff"] == -1);
}

TEST_CASE("heapsnap check: exit 1 with a one-line reason when leaks exceed the limits", "[cli][check]") {
  Files files;
  const auto failed = run_heapsnap({"check", files.leaky});
  CHECK(failed.exit_code == 1);
  CHECK(failed.err ==
        "heapsnap: check failed: 2 leaked blocks (1536 B) exceed --max-leaked-blocks 0; "
        "1536 leaked bytes exceed --max-leaked-bytes 0\n");
  CHECK_THAT(failed.out, Catch::StartsWith("heapsnap check: FAILED\n"));
  CHECK_THAT(failed.out, Catch::Contains("    at src/widget.cpp:12 (make_widget)\n"));

  const auto blocks = run_heapsnap({"check", files.leaky, "--max-leaked-bytes", "100000", "--max-leaked-blocks", "1"});
  CHECK(blocks.exit_code == 1);
  CHECK(blocks.err == "heapsnap: check failed: 2 leaked blocks (1536 B) exceed --max-leaked-blocks 1\n");

  const auto passed = run_heapsnap({"check", files.leaky, "--max-leaked-bytes", "1536", "--max-leaked-blocks", "2"});
  CHECK(passed.exit_code == 0);
  CHECK(passed.err.empty());
  CHECK_THAT(passed.out, Catch::StartsWith("heapsnap check: PASSED\n"));

  const auto json = run_heapsnap({"check", files.leaky, "--format", "json"});
  CHECK(json.exit_code == 1);
  const nlohmann::json report = nlohmann::json::parse(json.out);
  CHECK(report["format"] == "heapsnap-leak-report");
  CHECK(report["gate"]["passed"] == false);
  CHECK(report["totals"]["size"] == 1536);
}

TEST_CASE("heapsnap check --baseline counts only growth", "[cli][check]") {
  Files files;
  const auto same = run_heapsnap({"check", files.leaky, "--baseline", files.leaky});
  CHECK(same.exit_code == 0);

  const auto grown = run_heapsnap({"check", files.leakier, "--baseline", files.leaky, "--format", "json"});
  CHECK(grown.exit_code == 1);
  const nlohmann::json report = nlohmann::json::parse(grown.out);
  CHECK(report["gate"]["baseline"] == files.leaky);
  REQUIRE(report["leaks"].size() == 2);
  CHECK(report["leaks"][0]["size"] == 512);  // 2048 - 1536 at the widget stack
  CHECK(report["leaks"][0]["count"] == 1);
  CHECK(report["leaks"][1]["kind"] == "indirect");  // new at the cache stack
  CHECK(report["totals"] == nlohmann::json::parse(R"({"size": 576, "count": 2, "sites": 2, "cycles": 0, "free_errors": 0})"));
  CHECK(grown.err == "heapsnap: check failed: 2 new leaked blocks since the baseline (576 B) exceed "
                     "--max-leaked-blocks 0; 576 new leaked bytes since the baseline exceed --max-leaked-bytes 0\n");

  CHECK(run_heapsnap({"check", files.leakier, "--baseline", files.leaky, "--max-leaked-bytes", "576",
                      "--max-leaked-blocks", "2"})
            .exit_code == 0);
}

TEST_CASE("heapsnap check -o writes the report and never overwrites without --force", "[cli][check]") {
  Files files;
  const std::string report = (files.directory / "report.json").string();
  const auto written = run_heapsnap({"check", files.leaky, "--format", "json", "-o", report});
  CHECK(written.exit_code == 1);  // the gate still decides the status
  CHECK(written.out.empty());
  CHECK(nlohmann::json::parse(heapsnap::test::read_text_file(report))["totals"]["count"] == 2);

  const auto refused = run_heapsnap({"check", files.leaky, "--max-leaked-blocks", "9", "--max-leaked-bytes", "9999",
                                     "-o", report});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err == "heapsnap: error: " + report + ": already exists (use --force to replace it)\n");
  CHECK(nlohmann::json::parse(heapsnap::test::read_text_file(report))["totals"]["count"] == 2);

  const auto forced = run_heapsnap({"check", files.leaky, "--max-leaked-blocks", "9", "--max-leaked-bytes", "9999",
                                    "-o", report, "--force"});
  CHECK(forced.exit_code == 0);
  CHECK_THAT(heapsnap::test::read_text_file(report), Catch::StartsWith("heapsnap check: PASSED\n"));
}
