// `heapsnap check --suppressions` and `heapsnap cycles --suppressions` on snapshot files: exit codes,
// what the reports say was suppressed, errors in suppression files.

#include "test/cli/cli_test_support.h"

namespace {

const Traceback kBuffer = stack({frame("/ci/src/leaky.cpp", 23, "make_buffer"), frame("/ci/src/leaky.cpp", 55, "main")});
const Traceback kRecord = stack({frame("/ci/src/leaky.cpp", 29, "make_record"), frame("/ci/src/leaky.cpp", 56, "main")});

struct Files {
  TempDirectory directory;
  std::string leaky = (directory / "leaky.json").string();
  std::string main_branch = (directory / "main.json").string();
  std::string cycles = (directory / "cycles.json").string();
  std::string buffers = (directory / "buffers.supp").string();
  std::string records = (directory / "records.supp").string();

  Files() {
    save_snapshot(SnapshotBuilder()
                      .leak_analysis(true)
                      .add(0, 300, kBuffer, 3, Reachability::Direct)
                      .add(0, 240, kRecord, 5, Reachability::Direct)
                      .build(),
                  leaky);
    save_snapshot(SnapshotBuilder().leak_analysis(true).add(0, 100, kBuffer, 1, Reachability::Direct).build(),
                  main_branch);
    save_snapshot(heapsnap::test::snapshot_with_cycles(), cycles);
    write_text_file(buffers, "# The buffers live until exit on purpose.\nleak:make_buffer\nleak:no_such_function\n");
    write_text_file(records, "direct:leaky.cpp:29   # issue 12\n");
  }
};

}  // namespace

TEST_CASE("heapsnap check --suppressions: suppressed leaks no longer fail the gate", "[cli][check][suppressions]") {
  Files files;
  const auto one = run_heapsnap({"check", files.leaky, "--suppressions", files.buffers});
  CHECK(one.exit_code == 1);
  CHECK(one.err == "heapsnap: check failed: 5 leaked blocks (240 B) exceed --max-leaked-blocks 0; "
                   "240 leaked bytes exceed --max-leaked-bytes 0\n");
  CHECK_THAT(one.out, Catch::Contains("Suppressed: 300 B in 3 blocks by 1 of 2 rules (listed at the end)\n"));
  CHECK_THAT(one.out, Catch::Contains("    at /ci/src/leaky.cpp:29 (make_record)\n"));
  CHECK_THAT(one.out, !Catch::Contains("(make_buffer)"));
  CHECK_THAT(one.out, Catch::EndsWith("Suppressions:\n"
                                      "  " + files.buffers + ":2: leak:make_buffer: 300 B in 3 blocks\n"
                                      "  " + files.buffers + ":3: leak:no_such_function: matched nothing\n"));

  // Repeatable, files in order: the second file's rule suppresses the records.
  const auto both = run_heapsnap({"check", files.leaky, "--suppressions", files.buffers, "--suppressions", files.records,
                                  "--format", "json"});
  CHECK(both.exit_code == 0);
  CHECK(both.err.empty());
  const nlohmann::json report = nlohmann::json::parse(both.out);
  CHECK(report["gate"]["passed"] == true);
  CHECK(report["leaks"] == nlohmann::json::array());
  CHECK(report["suppressions"]["files"] == nlohmann::json({files.buffers, files.records}));
  REQUIRE(report["suppressions"]["rules"].size() == 3);
  CHECK(report["suppressions"]["rules"][2] == nlohmann::json({{"file", files.records}, {"line", 1}, {"kind", "direct"},
                                                              {"pattern", "leaky.cpp:29"}, {"blocks", 5}, {"bytes", 240},
                                                              {"cycles", 0}}));
  CHECK(report["suppressions"]["unmatched"] == nlohmann::json({1}));
  CHECK(report["suppressions"]["totals"] == nlohmann::json({{"blocks", 8}, {"bytes", 540}, {"cycles", 0}}));
}

TEST_CASE("heapsnap check --suppressions with --baseline: both are filtered, growth of the rest counts", "[cli][check][suppressions]") {
  Files files;
  // Against main: the buffers grew by 200 B, the records are new.
  const auto plain = run_heapsnap({"check", files.leaky, "--baseline", files.main_branch});
  CHECK(plain.exit_code == 1);
  CHECK_THAT(plain.err, Catch::Contains("7 new leaked blocks since the baseline (440 B)"));
  const auto buffers = run_heapsnap({"check", files.leaky, "--baseline", files.main_branch, "--suppressions", files.buffers});
  CHECK(buffers.exit_code == 1);
  CHECK_THAT(buffers.err, Catch::Contains("5 new leaked blocks since the baseline (240 B)"));
  const auto both = run_heapsnap({"check", files.leaky, "--baseline", files.main_branch, "--suppressions", files.buffers,
                                  "--suppressions", files.records});
  CHECK(both.exit_code == 0);
}

TEST_CASE("heapsnap check --suppressions: a bad suppression file is an input error", "[cli][check][suppressions]") {
  Files files;
  const std::string bad = (files.directory / "bad.supp").string();
  write_text_file(bad, "leak:make_buffer\n\n  lek:make_record\n");
  const auto result = run_heapsnap({"check", files.leaky, "--suppressions", bad});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err == "heapsnap: error: " + bad +
                          ": line 3, column 3: unknown rule kind \"lek\" (expected leak, direct, indirect or cycle)\n");

  const std::string missing = (files.directory / "missing.supp").string();
  const auto absent = run_heapsnap({"check", files.leaky, "--suppressions", missing});
  CHECK(absent.exit_code == 2);
  CHECK(absent.err == "heapsnap: error: " + missing + ": No such file or directory\n");

  CHECK(run_heapsnap({"check", files.leaky, "--suppressions"}).exit_code == 2);
  // One file per flag: the snapshot after it is not taken for a second suppression file.
  const auto order = run_heapsnap({"check", "--suppressions", files.buffers, files.leaky});
  CHECK(order.exit_code == 1);
  CHECK_THAT(order.out, Catch::Contains("Snapshot: " + files.leaky + "\n"));
}

TEST_CASE("heapsnap cycles --suppressions leaves out suppressed cycles", "[cli][cycles][suppressions]") {
  Files files;
  const std::string rings = (files.directory / "rings.supp").string();
  write_text_file(rings, "cycle:node.cpp:40\n");  // the cycles with a member allocated from make_ring line 40
  const auto text = run_heapsnap({"cycles", files.cycles, "--suppressions", rings});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("Suppressed by --suppressions: 4 cycles, 432 B in 9 blocks\n"
                                         "Leaked cycles in " + files.cycles + ": 2 cycles, 96 B in 2 blocks, 1 shape\n"));
  const auto json = run_heapsnap({"cycles", files.cycles, "--suppressions", rings, "--format", "json"});
  const nlohmann::json report = nlohmann::json::parse(json.out);
  CHECK(report["suppressed"] == nlohmann::json({{"cycles", 4}, {"blocks", 9}, {"bytes", 432}}));
  CHECK(report["totals"]["cycles"] == 2);
  CHECK(nlohmann::json::parse(run_heapsnap({"cycles", files.cycles, "--format", "json"}).out)["suppressed"].is_null());

  const auto reachable = run_heapsnap({"cycles", files.cycles, "--reachable", "--suppressions", rings});
  CHECK(reachable.exit_code == 2);
  CHECK_THAT(reachable.err, Catch::Contains("--suppressions"));
}

TEST_CASE("check --gen-suppressions writes rules that suppress exactly the reported leaks", "[cli][check][suppressions][valgrind]") {
  TempDirectory directory;
  // Two sites in the same functions at different lines, an indirect leak, an operator with a '*' in
  // its name, a frame known only by its module, and leaked reference cycles.
  const Traceback first = stack({frame("/ci/src/pool.cpp", 10, "Pool::grow"), frame("/ci/src/app.cpp", 5, "main")});
  const Traceback second = stack({frame("/ci/src/pool.cpp", 12, "Pool::grow"), frame("/ci/src/app.cpp", 5, "main")});
  const Traceback child = stack({frame("/ci/src/tree.cpp", 3, "Matrix::operator*"), frame("/ci/src/app.cpp", 6, "main")});
  Frame library = frame("", 0, "0x77aa");
  library.module = "/usr/lib/libvendor.so.2";
  const Traceback vendor = stack({library, frame("/ci/src/app.cpp", 7, "main")});
  Snapshot snapshot = heapsnap::test::snapshot_with_cycles();
  const auto add = [&](const Traceback& traceback, std::uint64_t size, Reachability reachability) {
    snapshot.tracebacks.push_back(traceback);
    snapshot.traces.push_back(Trace{kDefaultDomain, static_cast<TracebackIndex>(snapshot.tracebacks.size() - 1), size, 1,
                                    reachability});
  };
  add(first, 100, Reachability::Direct);
  add(second, 200, Reachability::Direct);
  add(child, 30, Reachability::Indirect);
  add(vendor, 40, Reachability::Direct);
  const std::string leaky = (directory / "leaky.json").string();
  save_snapshot(snapshot, leaky);

  const auto generated = run_heapsnap({"check", leaky, "--gen-suppressions", "--max-cycles", "1000"});
  CHECK(generated.exit_code == 1);  // the gate's verdict, as without the flag
  CHECK_THAT(generated.err, Catch::StartsWith("heapsnap: check failed: "));
  CHECK_THAT(generated.out, Catch::StartsWith("# heapsnap check --gen-suppressions: " + leaky + "\n{\n"));
  CHECK_THAT(generated.out, Catch::Contains("   Memcheck:Leak\n   match-leak-kinds: definite\n   src:/ci/src/pool.cpp:10\n"));
  CHECK_THAT(generated.out, Catch::Contains("   match-leak-kinds: indirect\n   fun:Matrix::operator\\*\n   fun:main\n"));
  CHECK_THAT(generated.out, Catch::Contains("   obj:/usr/lib/libvendor.so.2\n   fun:main\n"));
  CHECK_THAT(generated.out, Catch::Contains("   match-leak-kinds: definite,indirect\n"));  // the cycles' sites
  const std::string rules = (directory / "generated.supp").string();
  write_text_file(rules, generated.out);

  // Read back: every leak of the snapshot suppressed, each rule used.
  const auto clean = run_heapsnap({"check", leaky, "--suppressions", rules, "--format", "json"});
  CHECK(clean.exit_code == 0);
  const nlohmann::json report = nlohmann::json::parse(clean.out);
  CHECK(report["leaks"] == nlohmann::json::array());
  CHECK(report["totals"]["count"] == 0);
  CHECK(report["totals"]["cycles"] == 0);
  // One rule per leak site of the report. (A rule for a cycle's site may take nothing itself when the
  // cycle went whole to the rule of another member's site.)
  const nlohmann::json original = nlohmann::json::parse(run_heapsnap({"check", leaky, "--format", "json"}).out);
  CHECK(report["suppressions"]["rules"].size() == original["leaks"].size());

  // A new leak at another line of the same function is not covered: exactly it is left.
  const Traceback third = stack({frame("/ci/src/pool.cpp", 14, "Pool::grow"), frame("/ci/src/app.cpp", 5, "main")});
  add(third, 7, Reachability::Direct);
  const std::string later = (directory / "later.json").string();
  save_snapshot(snapshot, later);
  const auto rest = run_heapsnap({"check", later, "--suppressions", rules, "--format", "json"});
  CHECK(rest.exit_code == 1);
  const nlohmann::json left = nlohmann::json::parse(rest.out);
  REQUIRE(left["leaks"].size() == 1);
  CHECK(left["leaks"][0]["traceback"][0]["lineno"] == 14);
  CHECK(left["totals"]["size"] == 7);
}
