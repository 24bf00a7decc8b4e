// `heapsnap trend`, `heapsnap check SNAP1 ... SNAPn --max-growth` and `heapsnap export`'s errors, run as
// a user would on synthetic snapshot files.

#include "test/cli/cli_test_support.h"

namespace {

// A service's snapshots 1 s apart: the cache grows by 1000 bytes each, the sessions go up and down,
// and in the last one 300 bytes leaked at a site of their own.
struct Series {
  TempDirectory directory;
  std::vector<std::string> paths;

  explicit Series(int snapshots = 5) {
    const Traceback cache = stack({frame("src/cache.cpp", 41, "remember"), frame("src/main.cpp", 9, "main")});
    const Traceback sessions = stack({frame("src/session.cpp", 7, "open_session")});
    const Traceback leak = stack({frame("src/leak.cpp", 5, "forget")});
    for (int i = 0; i < snapshots; ++i) {
      SnapshotBuilder builder;
      builder.leak_analysis(true)
          .add(0, 1000 * static_cast<std::uint64_t>(i + 1), cache, static_cast<std::uint64_t>(i + 1), Reachability::Reachable)
          .add(0, i % 2 == 0 ? 2048 : 512, sessions, 1, Reachability::Reachable);
      if (i == snapshots - 1) builder.add(0, 300, leak, 3, Reachability::Direct);
      Snapshot snapshot = builder.build();
      snapshot.process.unix_time_ms = 1'700'000'000'000 + 1000 * i;
      // Named so that the command-line order below is not the time order.
      paths.push_back((directory / ("s" + std::to_string(snapshots - i) + ".json")).string());
      save_snapshot(snapshot, paths.back());
    }
  }
  std::vector<std::string> with(std::vector<std::string> arguments, bool reversed = true) const {
    std::vector<std::string> files = paths;
    if (reversed) std::reverse(files.begin(), files.end());
    arguments.insert(arguments.begin() + 1, files.begin(), files.end());
    return arguments;
  }
};

}  // namespace

TEST_CASE("heapsnap --help lists export and trend; their options have help", "[cli][trend][export]") {
  const auto help = run_heapsnap({"--help"});
  CHECK_THAT(help.out, Catch::Contains("export") && Catch::Contains("trend"));
  CHECK_THAT(run_heapsnap({"export", "--help"}).out, Catch::Contains("speedscope|pprof|collapsed"));
  CHECK_THAT(run_heapsnap({"trend", "--help"}).out, Catch::Contains("--min-snapshots") && Catch::Contains("--by"));
  CHECK_THAT(run_heapsnap({"check", "--help"}).out, Catch::Contains("--max-growth"));
}

TEST_CASE("heapsnap trend names the growing site, in time order whatever the argument order", "[cli][trend]") {
  Series series;
  const auto text = run_heapsnap(series.with({"trend"}));
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("Trend of 5 snapshots by line, 0 s to 4.0 s: " + series.paths.front() + " ... " +
                                          series.paths.back() + "\n1 growing, 0 plateau, 2 churn, 0 shrinking, 0 stable\n"));
  CHECK_THAT(text.out, Catch::Contains(" 1  growing  1000 B → 5000 B  +1000 B/s  src/cache.cpp:41 (remember)\n"));

  const auto json = run_heapsnap(series.with({"trend", "--format", "json", "--by", "traceback"}));
  REQUIRE(json.exit_code == 0);
  const auto document = nlohmann::json::parse(json.out);
  CHECK(document["group_by"] == "traceback");
  CHECK(document["snapshots"][0]["file"] == series.paths.front());
  CHECK(document["sites"][0]["class"] == "growing");
  CHECK(document["sites"][0]["traceback"].size() == 2);
  CHECK(document["sites"][0]["sizes"] == nlohmann::json{1000, 2000, 3000, 4000, 5000});
  // The leak of the last snapshot alone: one rising step is no steady growth.
  for (const auto& site : document["sites"]) {
    if (site["traceback"][0]["function"] == "forget") CHECK(site["class"] != "growing");
  }
}

TEST_CASE("heapsnap trend: too short a series, bad options and bad files exit 2", "[cli][trend]") {
  Series series;
  const auto two = run_heapsnap({"trend", series.paths[0], series.paths[1]});
  CHECK(two.exit_code == 2);
  CHECK(two.err == "heapsnap: error: trend needs at least 3 snapshots (--min-snapshots), got 2\n");
  const auto more = run_heapsnap(series.with({"trend", "--min-snapshots", "6"}));
  CHECK(more.exit_code == 2);
  CHECK_THAT(more.err, Catch::Contains("at least 6 snapshots"));
  CHECK(run_heapsnap(series.with({"trend", "--min-snapshots", "2"})).exit_code == 2);
  CHECK(run_heapsnap(series.with({"trend", "--by", "function"})).exit_code == 2);
  CHECK(run_heapsnap(series.with({"trend", "--cumulative"})).exit_code == 2);

  const std::string corrupt = (series.directory / "corrupt.json").string();
  heapsnap::test::write_text_file(corrupt, "{\"format\": \"heapsnap-snapshot\", \"version\": 1,\n \"traces\": [");
  const auto bad = run_heapsnap({"trend", series.paths[0], series.paths[1], corrupt});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("heapsnap: error: " + corrupt + ": line 2"));
  CHECK(bad.out.empty());
}

TEST_CASE("heapsnap check --max-growth fails on steady growth, naming the site", "[cli][check][trend]") {
  Series series;
  // The latest snapshot's 300 leaked bytes are allowed; the cache's 4000 bytes of growth are not.
  const auto failed = run_heapsnap(series.with({"check", "--max-leaked-bytes", "300", "--max-leaked-blocks", "3",
                                                "--max-growth", "3999"}));
  CHECK(failed.exit_code == 1);
  CHECK(failed.err ==
        "heapsnap: check failed: src/cache.cpp:41 (remember) grew steadily by 4000 B (4000 bytes) over 5 snapshots, "
        "exceeding --max-growth 3999\n");
  CHECK_THAT(failed.out, Catch::Contains("FAILED"));

  const auto passed = run_heapsnap(series.with({"check", "--max-leaked-bytes", "300", "--max-leaked-blocks", "3",
                                                "--max-growth", "4000", "--format", "json"}));
  CHECK(passed.exit_code == 0);
  const auto report = nlohmann::json::parse(passed.out);
  CHECK(report["snapshot"] == series.paths.back());  // the latest is the one checked for leaks
  CHECK(report["totals"]["size"] == 300);

  // Leaks of the latest snapshot still fail the gate, and both reasons are given.
  const auto both = run_heapsnap(series.with({"check", "--max-growth", "0", "--format", "json"}));
  CHECK(both.exit_code == 1);
  const auto both_report = nlohmann::json::parse(both.out);
  CHECK(both_report["gate"]["passed"] == false);
  REQUIRE(both_report["gate"]["reasons"].size() == 3);
  CHECK_THAT(both_report["gate"]["reasons"][2].get<std::string>(), Catch::StartsWith("src/cache.cpp:41 (remember) grew steadily"));
}

TEST_CASE("heapsnap check --max-growth gates the latest leak-analysed snapshot for leaks", "[cli][check][trend]") {
  Series series;
  // An interval snapshot after the others, without leak analysis: every block in it would count.
  Snapshot later = load_snapshot(series.paths.back());
  later.leak_analysis = false;
  for (Trace& trace : later.traces) trace.reachability = Reachability::NotAnalyzed;
  later.process.unix_time_ms += 500;
  const std::string interval = (series.directory / "interval.json").string();
  save_snapshot(later, interval);
  const auto result = run_heapsnap(series.with({"check", interval, "--max-growth", "100000", "--max-leaked-bytes", "300",
                                                "--max-leaked-blocks", "3", "--format", "json"}));
  CHECK(result.exit_code == 0);
  CHECK(nlohmann::json::parse(result.out)["snapshot"] == series.paths.back());
}

TEST_CASE("heapsnap check with several snapshots needs --max-growth, and --max-growth a series", "[cli][check][trend]") {
  Series series;
  const auto several = run_heapsnap(series.with({"check"}));
  CHECK(several.exit_code == 2);
  CHECK(several.err == "heapsnap: error: several snapshots are checked only with --max-growth (to check one, give one)\n");
  const auto one = run_heapsnap({"check", series.paths[0], "--max-growth", "10"});
  CHECK(one.exit_code == 2);
  CHECK(one.err == "heapsnap: error: --max-growth needs a series of at least 3 snapshots\n");
  CHECK(run_heapsnap({"check", series.paths[0], "--max-growth", "-1"}).exit_code == 2);
  // One snapshot, as before: the leak gate alone (the first snapshot has no leak).
  CHECK(run_heapsnap({"check", series.paths[0]}).exit_code == 0);
  CHECK(run_heapsnap({"check", series.paths[4]}).exit_code == 1);
}

TEST_CASE("heapsnap export: bad input and bad options exit 2", "[cli][export]") {
  TempDirectory directory;
  const std::string missing = (directory / "missing.json").string();
  const auto absent = run_heapsnap({"export", missing, "--format", "collapsed"});
  CHECK(absent.exit_code == 2);
  CHECK(absent.err == "heapsnap: error: " + missing + ": No such file or directory\n");

  const std::string snapshot = (directory / "one.json").string();
  save_snapshot(SnapshotBuilder().add(0, 10, stack({frame("a.c", 1, "f")})).build(), snapshot);
  CHECK(run_heapsnap({"export", snapshot}).exit_code == 2);  // --format is required
  CHECK(run_heapsnap({"export", snapshot, "--format", "svg"}).exit_code == 2);
  const auto binary = run_heapsnap({"export", snapshot, "--format", "pprof"});
  CHECK(binary.exit_code == 2);
  CHECK(binary.out.empty());
  const std::string no_directory = (directory / "nowhere" / "out.pb.gz").string();
  const auto unwritable = run_heapsnap({"export", snapshot, "--format", "pprof", "-o", no_directory});
  CHECK(unwritable.exit_code == 2);
  CHECK_THAT(unwritable.err, Catch::Contains(no_directory));

  const auto collapsed = run_heapsnap({"export", snapshot, "--format", "collapsed"});
  CHECK(collapsed.exit_code == 0);
  CHECK(collapsed.out == "f (a.c:1) 10\n");
}
