// Suppressions applied to synthetic snapshots: what a rule matches, which rule a leak goes to, whole
// cycles, and the gate with and without a baseline.

#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "reporters/leaks/leak_report.h"
#include "reporters/leaks/leak_report_json.h"
#include "reporters/leaks/leak_report_text.h"
#include "snapshot/suppression_filter.h"
#include "snapshot/valgrind_stack_match.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

SuppressionList rules(const std::string& text) {
  SuppressionList list;
  parse_suppressions(text, "known.supp", list);
  return list;
}

bool matches(const std::string& rule, const Frame& frame) { return frame_matches(rules(rule).rules.at(0), frame); }

const Traceback kBuffer = stack({frame("/home/ci/src/app/leaky.cpp", 23, "make_buffer"),
                                 frame("/home/ci/src/app/leaky.cpp", 35, "leak_buffers"),
                                 frame("/home/ci/src/app/leaky.cpp", 55, "main")});
const Traceback kRecord = stack({frame("/home/ci/src/app/leaky.cpp", 29, "make_record"),
                                 frame("/home/ci/src/app/leaky.cpp", 39, "leak_records"),
                                 frame("/home/ci/src/app/leaky.cpp", 56, "main")});
const Traceback kChild = stack({frame("/home/ci/src/app/tree.cpp", 7, "Tree::add_child(int)"),
                                frame("/home/ci/src/app/leaky.cpp", 60, "main")});
const Traceback kCache = stack({frame("/home/ci/src/app/cache.cpp", 40, "Cache::put")});

// The leaky sample's two direct leaks, an indirect one below make_record, and a reachable cache.
Snapshot leaky() {
  return SnapshotBuilder()
      .leak_analysis(true)
      .add(0, 300, kBuffer, 3, Reachability::Direct)
      .add(0, 240, kRecord, 5, Reachability::Direct)
      .add(0, 64, kChild, 2, Reachability::Indirect)
      .add(0, 4096, kCache, 1, Reachability::Reachable)
      .build();
}

GateThresholds no_leaks() { return GateThresholds{}; }

std::uint64_t leaked_bytes(const Snapshot& snapshot) {
  std::uint64_t bytes = 0;
  for (const Trace& trace : snapshot.traces) bytes += leak_kind(snapshot, trace) ? trace.size : 0;
  return bytes;
}

std::uint64_t cycle_count(const Snapshot& snapshot, bool reachable) {
  std::uint64_t count = 0;
  for (const Cycle& cycle : snapshot.cycles) count += cycle.reachable == reachable ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("a rule matches a frame's function, file (path suffix), file:line or module", "[suppressions]") {
  Frame f = frame("/home/ci/src/app/leaky.cpp", 23, "(anonymous namespace)::make_buffer(int)");
  f.module = "/usr/lib/x86_64-linux-gnu/libfoo.so.1";
  CHECK(matches("leak:(anonymous namespace)::make_buffer(int)", f));
  CHECK(matches("leak:*make_buffer*", f));
  // Also the short form: clang names it so where GCC's debug information says "make_buffer".
  CHECK(matches("leak:make_buffer", f));
  CHECK(matches("leak:make_buffer", frame("/src/leaky.cpp", 23, "make_buffer")));
  CHECK_FALSE(matches("leak:buffer", f));  // the whole name, not a part of it
  CHECK_FALSE(matches("leak:make_buffer(long)", f));
  CHECK(matches("leak:Tree::add_child", frame("/src/tree.cpp", 7, "Tree::add_child(int) const")));
  CHECK(matches("leak:leaky.cpp", f));
  CHECK(matches("leak:app/leaky.cpp", f));
  CHECK(matches("leak:/home/ci/src/app/leaky.cpp", f));
  CHECK(matches("leak:src/*/leaky.cpp", f));
  CHECK(matches("leak:*/app/*", f));
  CHECK_FALSE(matches("leak:eaky.cpp", f));  // suffixes start after a '/'
  CHECK_FALSE(matches("leak:leaky", f));
  CHECK(matches("leak:leaky.cpp:23", f));
  CHECK(matches("leak:app/leaky.cpp:2?", f));
  CHECK(matches("leak:leaky.cpp:*", f));
  CHECK_FALSE(matches("leak:leaky.cpp:2", f));
  CHECK_FALSE(matches("leak:leaky.cpp:230", f));
  CHECK_FALSE(matches("leak:other.cpp:23", f));
  CHECK(matches("leak:libfoo.so*", f));
  CHECK(matches("leak:libfoo.so.1", f));
  CHECK_FALSE(matches("leak:libfoo", f));

  const Frame no_line = frame("/usr/lib/libbar.so", 0, "");
  CHECK(matches("leak:libbar.so", no_line));
  CHECK_FALSE(matches("leak:libbar.so:0", no_line));  // an unknown line is not line 0
  CHECK(matches("leak:*", no_line));
}

TEST_CASE("suppressions take matched leaks out of the snapshot; the first matching rule gets them", "[suppressions]") {
  const SuppressedSnapshot result = apply_suppressions(leaky(), rules("leak:leaky.cpp\n"
                                                                     "leak:make_buffer\n"     // shadowed by the first
                                                                     "indirect:Tree::*\n"
                                                                     "leak:Cache::put\n"      // reachable: not a leak
                                                                     "direct:Tree::*\n"));    // wrong kind
  const std::vector<SuppressedAmount>& matched = result.applied.matched;
  REQUIRE(matched.size() == 5);
  // kChild has a frame in leaky.cpp too (main): the first rule takes every leak.
  CHECK(matched[0].blocks == 10);
  CHECK(matched[0].bytes == 604);
  for (std::size_t i = 1; i < 5; ++i) CHECK(matched[i].empty());
  CHECK(leaked_bytes(result.snapshot) == 0);
  REQUIRE(result.snapshot.traces.size() == 1);
  CHECK(result.snapshot.traces[0].reachability == Reachability::Reachable);
  CHECK(result.snapshot.tracebacks.size() == 4);  // indices stay valid

  const SuppressedSnapshot kinds = apply_suppressions(leaky(), rules("direct:Tree::*\nindirect:Tree::*\ndirect:leaky.cpp:23\n"));
  CHECK(kinds.applied.matched[0].empty());
  CHECK(kinds.applied.matched[1].blocks == 2);
  CHECK(kinds.applied.matched[1].bytes == 64);
  CHECK(kinds.applied.matched[2].blocks == 3);
  CHECK(kinds.applied.total().bytes == 364);
  CHECK(leaked_bytes(kinds.snapshot) == 240);

  // Without rules nothing changes.
  const SuppressedSnapshot none = apply_suppressions(leaky(), SuppressionList{});
  CHECK(none.snapshot.traces.size() == 4);
  CHECK(none.applied.matched.empty());
}

TEST_CASE("without leak analysis every live block is a leak that leak: rules can suppress", "[suppressions]") {
  const Snapshot snapshot = SnapshotBuilder().add(0, 100, kBuffer).add(0, 50, kCache).build();
  const SuppressedSnapshot result = apply_suppressions(snapshot, rules("direct:make_buffer\nleak:Cache::*\n"));
  CHECK(result.applied.matched[0].empty());  // kind allocated: only leak: rules apply
  CHECK(result.applied.matched[1].bytes == 50);
  CHECK(leaked_bytes(result.snapshot) == 100);
}

TEST_CASE("a leaked cycle goes whole to the first leak: or cycle: rule matching a member", "[suppressions][cycles]") {
  // 3 pairs (first <-> other), 1 triangle (first, other, other), 2 self-cycles (first), a reachable 4-ring.
  const Snapshot snapshot = heapsnap::test::snapshot_with_cycles();

  SECTION("cycle: by one member's stack") {
    // node.cpp:40 is in kOtherNode only: the pairs and the triangle go, with their kFirstNode members.
    const SuppressedSnapshot result = apply_suppressions(snapshot, rules("direct:make_node\ncycle:node.cpp:40\n"));
    CHECK(result.applied.matched[0].empty());
    CHECK(result.applied.matched[1].cycles == 4);
    CHECK(result.applied.matched[1].blocks == 9);
    CHECK(result.applied.matched[1].bytes == 9 * 48);
    CHECK(cycle_count(result.snapshot, false) == 2);
    CHECK(cycle_count(result.snapshot, true) == 1);
    const LeakReport report = build_leak_report(result.snapshot, "cycles.json", no_leaks());
    REQUIRE(report.cycles.size() == 1);
    CHECK(report.cycles[0].shape.count() == 2);  // the self-cycles
    CHECK(report.totals.cycles == 2);
    // Left: the self-cycles' 2 blocks and the 2 plain leaks.
    CHECK(report.totals.count == 4);
    CHECK(report.totals.size == 96 + 128);
  }
  SECTION("leak: takes every cycle, then the plain leaks it matches") {
    const SuppressedSnapshot result = apply_suppressions(snapshot, rules("leak:make_ring\nleak:src/plain.cpp\n"));
    CHECK(result.applied.matched[0].cycles == 6);
    CHECK(result.applied.matched[0].blocks == 11);
    CHECK(result.applied.matched[0].bytes == 11 * 48);
    CHECK(result.applied.matched[1].blocks == 2);
    CHECK(result.applied.matched[1].bytes == 128);
    CHECK(cycle_count(result.snapshot, false) == 0);
    CHECK(cycle_count(result.snapshot, true) == 1);  // reachable cycles are not leaks
    const LeakReport report = build_leak_report(result.snapshot, "cycles.json", no_leaks());
    CHECK(report.leaks.empty());
    CHECK(report.gate.passed);
  }
  SECTION("direct: and indirect: never take cycles") {
    const SuppressedSnapshot result = apply_suppressions(snapshot, rules("direct:make_node\nindirect:make_node\n"));
    CHECK(result.applied.total().empty());
    CHECK(result.snapshot.cycles.size() == snapshot.cycles.size());
    CHECK(result.snapshot.traces.size() == snapshot.traces.size());
  }
  SECTION("a cycle goes to the earliest rule matching any member") {
    const SuppressedSnapshot result = apply_suppressions(snapshot, rules("cycle:node.cpp:40\ncycle:node.cpp:37\n"));
    CHECK(result.applied.matched[0].cycles == 4);  // pairs and triangle: both rules match, the first wins
    CHECK(result.applied.matched[1].cycles == 2);  // self-cycles: only kFirstNode members
    CHECK(cycle_count(result.snapshot, false) == 0);
    CHECK(leaked_bytes(result.snapshot) == 128);   // the plain leak only
  }
}

TEST_CASE("the gate counts only what suppressions leave", "[suppressions][gate]") {
  const SuppressedSnapshot one = apply_suppressions(leaky(), rules("leak:make_buffer\n"));
  const LeakReport failed = build_leak_report(one.snapshot, "leaky.json", no_leaks());
  CHECK_FALSE(failed.gate.passed);
  CHECK(failed.totals.size == 240 + 64);
  REQUIRE(failed.leaks.size() == 2);
  CHECK(failed.leaks[0].traceback == kRecord);

  const SuppressedSnapshot all = apply_suppressions(leaky(), rules("leak:make_buffer\nleak:leak_records\nleak:tree.cpp\n"));
  const LeakReport passed = build_leak_report(all.snapshot, "leaky.json", no_leaks());
  CHECK(passed.gate.passed);
  CHECK(passed.totals.count == 0);
}

TEST_CASE("suppressions and a baseline compose: suppressed in both, growth of the rest", "[suppressions][gate]") {
  const Snapshot baseline = SnapshotBuilder()
                                .leak_analysis(true)
                                .add(0, 100, kBuffer, 1, Reachability::Direct)
                                .add(0, 240, kRecord, 5, Reachability::Direct)
                                .build();
  // The buffers grew (suppressed), the records did not, the tree is new.
  const SuppressionList list = rules("leak:make_buffer\n");
  const SuppressedSnapshot current = apply_suppressions(leaky(), list);
  const Snapshot old = apply_suppressions(baseline, list).snapshot;
  const LeakReport report = build_leak_report(current.snapshot, "new.json", old, "old.json", no_leaks());
  REQUIRE(report.leaks.size() == 1);
  CHECK(report.leaks[0].traceback == kChild);
  CHECK(report.totals.size == 64);
  CHECK_FALSE(report.gate.passed);
  CHECK(current.applied.matched[0].bytes == 300);  // counted in the current snapshot

  const SuppressionList more = rules("leak:make_buffer\nindirect:tree.cpp\n");
  const LeakReport passed = build_leak_report(apply_suppressions(leaky(), more).snapshot, "new.json",
                                              apply_suppressions(baseline, more).snapshot, "old.json", no_leaks());
  CHECK(passed.gate.passed);
  // The same baseline without suppressions fails on the buffers' growth as well.
  CHECK(build_leak_report(leaky(), "new.json", baseline, "old.json", no_leaks()).totals.size == 200 + 64);
}

TEST_CASE("the leak report lists every rule with what it matched, and the rules that matched nothing", "[suppressions][json]") {
  LeakReport report;
  {
    SuppressedSnapshot result = apply_suppressions(leaky(), rules("leak:make_buffer\nleak:gone_function # fixed\n"));
    report = build_leak_report(result.snapshot, "leaky.json", no_leaks());
    report.suppressions = std::move(result.applied);
  }
  std::ostringstream json_out;
  LeakReportJsonReporter(report).render(json_out);
  const nlohmann::json json = nlohmann::json::parse(json_out.str());
  CHECK(json["version"] == 1);
  CHECK(json["suppressions"] == nlohmann::json::parse(R"({
      "files": ["known.supp"],
      "rules": [
        {"file": "known.supp", "line": 1, "kind": "leak", "pattern": "make_buffer", "blocks": 3, "bytes": 300, "cycles": 0},
        {"file": "known.supp", "line": 2, "kind": "leak", "pattern": "gone_function", "blocks": 0, "bytes": 0, "cycles": 0}],
      "unmatched": [1],
      "totals": {"blocks": 3, "bytes": 300, "cycles": 0}})"));
  CHECK(json["totals"]["size"] == 304);

  std::ostringstream text_out;
  LeakReportTextReporter(report).render(text_out);
  const std::string text = text_out.str();
  CHECK_THAT(text, Catch::Contains("Leak analysis: yes, unreachable blocks are leaks\n"
                                   "Suppressed: 300 B in 3 blocks by 1 of 2 rules (listed at the end)\n"
                                   "Leaked: 304 B in 7 blocks at 2 sites\n"));
  CHECK_THAT(text, Catch::EndsWith("\nSuppressions:\n"
                                   "  known.supp:1: leak:make_buffer: 300 B in 3 blocks\n"
                                   "  known.supp:2: leak:gone_function: matched nothing\n"));

  // Without --suppressions: an empty object in JSON, nothing in the text.
  const LeakReport plain = build_leak_report(leaky(), "leaky.json", no_leaks());
  std::ostringstream plain_json;
  LeakReportJsonReporter(plain).render(plain_json);
  CHECK(nlohmann::json::parse(plain_json.str())["suppressions"] == nlohmann::json::parse(R"({
      "files": [], "rules": [], "unmatched": [], "totals": {"blocks": 0, "bytes": 0, "cycles": 0}})"));
  std::ostringstream plain_text;
  LeakReportTextReporter(plain).render(plain_text);
  CHECK_THAT(plain_text.str(), !Catch::Contains("Suppress"));
}

TEST_CASE("the text report shows suppressed cycles and passes when everything is suppressed", "[suppressions][text]") {
  SuppressedSnapshot result = apply_suppressions(heapsnap::test::snapshot_with_cycles(),
                                                 rules("cycle:make_node\nleak:leak_plain\n"));
  LeakReport report = build_leak_report(result.snapshot, "cycles.json", no_leaks());
  report.suppressions = std::move(result.applied);
  std::ostringstream out;
  LeakReportTextReporter(report).render(out);
  CHECK(out.str() == "heapsnap check: PASSED\n"
                     "  0 blocks (0 B) within --max-leaked-blocks 0 and --max-leaked-bytes 0\n"
                     "\n"
                     "Snapshot: cycles.json\n"
                     "Leak analysis: yes, unreachable blocks are leaks\n"
                     "Suppressed: 656 B in 13 blocks, 6 cycles by 2 of 2 rules (listed at the end)\n"
                     "No leaks.\n"
                     "\n"
                     "Suppressions:\n"
                     "  known.supp:1: cycle:make_node: 528 B in 11 blocks, 6 cycles\n"
                     "  known.supp:2: leak:leak_plain: 128 B in 2 blocks\n");
}

// ---------------------------------------------------------------------------------------------------
// Valgrind's rules: whole stacks, frame by frame

namespace {

bool stack_suppressed(const std::string& rule_text, const Traceback& traceback) {
  const SuppressionList list = rules(rule_text);
  REQUIRE(list.rules.size() == 1);
  return stack_matches(list.rules[0], traceback);
}

std::string valgrind_rule(const std::string& lines) { return "{\n  r\n  Memcheck:Leak\n" + lines + "}\n"; }

}  // namespace

TEST_CASE("a Valgrind rule matches a stack frame by frame from the allocation site", "[suppressions][valgrind]") {
  // fun: per frame, in order, from the first; frames past the rule's last line do not matter.
  CHECK(stack_suppressed(valgrind_rule("fun:make_buffer\nfun:leak_buffers\n"), kBuffer));
  CHECK_FALSE(stack_suppressed(valgrind_rule("fun:leak_buffers\n"), kBuffer));  // not from the first frame
  CHECK_FALSE(stack_suppressed(valgrind_rule("fun:make_buffer\nfun:main\n"), kBuffer));  // a frame skipped
  // "..." is any run of frames, none included.
  CHECK(stack_suppressed(valgrind_rule("fun:make_buffer\n...\nfun:main\n"), kBuffer));
  CHECK(stack_suppressed(valgrind_rule("...\nfun:main\n"), kBuffer));
  CHECK(stack_suppressed(valgrind_rule("fun:make_buffer\n...\nfun:leak_buffers\n"), kBuffer));
  CHECK_FALSE(stack_suppressed(valgrind_rule("...\nfun:make_record\n"), kBuffer));
  // Valgrind's stacks start at the allocator: a first line naming it may match no frame here.
  CHECK(stack_suppressed(valgrind_rule("fun:malloc\nfun:make_buffer\n"), kBuffer));
  CHECK(stack_suppressed(valgrind_rule("fun:_Znwm\nfun:make_buffer\n"), kBuffer));
  CHECK(stack_suppressed(valgrind_rule("obj:/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so\nfun:make_buffer\n"), kBuffer));
  CHECK_FALSE(stack_suppressed(valgrind_rule("fun:fopen\nfun:make_buffer\n"), kBuffer));
  // Globs; a mangled name is demangled, with or without its parameters.
  CHECK(stack_suppressed(valgrind_rule("fun:make_*\nfun:leak_?uffers\n"), kBuffer));
  CHECK(stack_suppressed(valgrind_rule("fun:_ZN4Tree9add_childEi\n"), kChild));
  CHECK(stack_suppressed(valgrind_rule("fun:_ZN5Cache3putEv\n"), kCache));
  // A rule generated from a clang build (the anonymous namespace in the mangled name) holds for GCC's name.
  CHECK(stack_suppressed(valgrind_rule("fun:_ZN12_GLOBAL__N_111make_bufferEi\n"), kBuffer));
  CHECK(stack_suppressed(valgrind_rule("fun:make_buffer\n"),
                         stack({frame("/src/leaky.cpp", 23, "(anonymous namespace)::make_buffer(int)")})));
  CHECK_FALSE(stack_suppressed(valgrind_rule("fun:_ZN5Cache3getEv\n"), kCache));
  // obj: globs the module's path (or a suffix after a '/'), src: the file and line.
  Frame library_frame = frame("", 0, "0x1234");
  library_frame.module = "/usr/lib/x86_64-linux-gnu/libfoo.so.1";
  const Traceback in_library = stack({library_frame, frame("/src/a.c", 9, "main")});
  CHECK(stack_suppressed(valgrind_rule("obj:*/libfoo.so*\nfun:main\n"), in_library));
  CHECK(stack_suppressed(valgrind_rule("obj:libfoo.so.1\n"), in_library));
  CHECK_FALSE(stack_suppressed(valgrind_rule("obj:*/libbar.so*\n"), in_library));
  CHECK(stack_suppressed(valgrind_rule("src:leaky.cpp:23\nsrc:leaky.cpp\n"), kBuffer));
  CHECK_FALSE(stack_suppressed(valgrind_rule("src:leaky.cpp:24\n"), kBuffer));
}

TEST_CASE("Valgrind rules suppress the leak kinds match-leak-kinds names", "[suppressions][valgrind]") {
  const auto suppressed = [](const std::string& kinds) {
    const SuppressionList list = rules(valgrind_rule("match-leak-kinds: " + kinds + "\n...\nfun:main\n"));
    return leaked_bytes(leaky()) - leaked_bytes(apply_suppressions(leaky(), list).snapshot);
  };
  CHECK(suppressed("definite") == 300 + 240);    // the direct leaks
  CHECK(suppressed("indirect") == 64);           // the indirect one
  CHECK(suppressed("all") == 300 + 240 + 64);
  CHECK(suppressed("definite,indirect") == 300 + 240 + 64);
  CHECK(suppressed("possible,reachable") == 0);  // no such leaks in heapsnap's verdicts
}
