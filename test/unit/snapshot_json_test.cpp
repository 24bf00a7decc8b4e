// The snapshot file: lossless round trip of every field, the documented layout, atomic saving.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "gc/gc_cycle_report.h"
#include "snapshot/file_io.h"
#include "snapshot/snapshot_json.h"
#include "test/support/snapshot_factory.h"

// The precise collector's unknown offset is the one the file format writes as null.
static_assert(heapsnap::kUnknownEdgeOffset == heapsnap::gc::kUnknownOffset);
#include "test/support/temp_directory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

// Every field, unlike Frame's and Traceback's operator== (identity only).
void require_identical(const Snapshot& a, const Snapshot& b) {
  CHECK(a.traceback_limit == b.traceback_limit);
  CHECK(a.traced_current == b.traced_current);
  CHECK(a.traced_peak == b.traced_peak);
  CHECK(a.allocation_calls == b.allocation_calls);
  CHECK(a.leak_analysis == b.leak_analysis);
  CHECK(a.sampling_rate == b.sampling_rate);
  CHECK(a.process.pid == b.process.pid);
  CHECK(a.process.argv == b.process.argv);
  CHECK(a.process.executable == b.process.executable);
  CHECK(a.process.reason == b.process.reason);
  CHECK(a.process.unix_time_ms == b.process.unix_time_ms);
  REQUIRE(a.tracebacks.size() == b.tracebacks.size());
  for (std::size_t i = 0; i < a.tracebacks.size(); ++i) {
    const Traceback& x = a.tracebacks[i];
    const Traceback& y = b.tracebacks[i];
    CHECK(x.total_nframe == y.total_nframe);
    REQUIRE(x.frames.size() == y.frames.size());
    for (std::size_t k = 0; k < x.frames.size(); ++k) {
      CHECK(x.frames[k].filename == y.frames[k].filename);
      CHECK(x.frames[k].lineno == y.frames[k].lineno);
      CHECK(x.frames[k].function == y.frames[k].function);
      CHECK(x.frames[k].module == y.frames[k].module);
      CHECK(x.frames[k].address == y.frames[k].address);
      CHECK(x.frames[k].build_id == y.frames[k].build_id);
      CHECK(x.frames[k].offset == y.frames[k].offset);
    }
  }
  REQUIRE(a.traces.size() == b.traces.size());
  for (std::size_t i = 0; i < a.traces.size(); ++i) {
    CHECK(a.traces[i].domain == b.traces[i].domain);
    CHECK(a.traces[i].traceback == b.traces[i].traceback);
    CHECK(a.traces[i].size == b.traces[i].size);
    CHECK(a.traces[i].count == b.traces[i].count);
    CHECK(a.traces[i].reachability == b.traces[i].reachability);
    CHECK(a.traces[i].before_tracing == b.traces[i].before_tracing);
  }
  REQUIRE(a.activity.size() == b.activity.size());
  for (std::size_t i = 0; i < a.activity.size(); ++i) {
    CHECK(a.activity[i].traceback == b.activity[i].traceback);
    CHECK(a.activity[i].calls == b.activity[i].calls);
    CHECK(a.activity[i].allocated_size == b.activity[i].allocated_size);
    CHECK(a.activity[i].temporary == b.activity[i].temporary);
    CHECK(a.activity[i].peak_size == b.activity[i].peak_size);
    CHECK(a.activity[i].peak_count == b.activity[i].peak_count);
  }
  CHECK(a.peak_view.has_value() == b.peak_view.has_value());
  if (a.peak_view && b.peak_view) {
    CHECK(a.peak_view->total == b.peak_view->total);
    CHECK(a.peak_view->since_previous_snapshot == b.peak_view->since_previous_snapshot);
  }
  REQUIRE(a.cycles.size() == b.cycles.size());
  for (std::size_t i = 0; i < a.cycles.size(); ++i) {
    const Cycle& x = a.cycles[i];
    const Cycle& y = b.cycles[i];
    CHECK(x.bytes == y.bytes);
    CHECK(x.reachable == y.reachable);
    REQUIRE(x.members.size() == y.members.size());
    for (std::size_t k = 0; k < x.members.size(); ++k) {
      CHECK(x.members[k].address == y.members[k].address);
      CHECK(x.members[k].size == y.members[k].size);
      CHECK(x.members[k].traceback == y.members[k].traceback);
    }
    REQUIRE(x.edges.size() == y.edges.size());
    for (std::size_t e = 0; e < x.edges.size(); ++e) {
      CHECK(x.edges[e].from == y.edges[e].from);
      CHECK(x.edges[e].to == y.edges[e].to);
      CHECK(x.edges[e].offset == y.edges[e].offset);
    }
  }
}

std::string to_json(const Snapshot& snapshot) {
  std::ostringstream out;
  write_snapshot_json(snapshot, out);
  return out.str();
}

}  // namespace

TEST_CASE("a snapshot survives a JSON round trip in every field", "[snapshot_json]") {
  const Snapshot original = full_snapshot();
  const std::string text = to_json(original);
  const Snapshot copy = parse_snapshot_json(text, "memory");
  require_identical(original, copy);
  CHECK(to_json(copy) == text);  // and writing is deterministic

  std::istringstream in(text);
  require_identical(original, read_snapshot_json(in, "stream"));
}

TEST_CASE("a trace of memory allocated before tracing started round-trips", "[snapshot_json]") {
  Snapshot original = full_snapshot();
  original.traces.back().before_tracing = true;
  const std::string text = to_json(original);
  CHECK(text.find("\"before_tracing\":true") != std::string::npos);
  require_identical(original, parse_snapshot_json(text, "memory"));
}

TEST_CASE("per-site activity and the peak view round-trip; a file without them reads with none", "[snapshot_json]") {
  Snapshot original = full_snapshot();
  original.activity = {{TracebackIndex{0}, 7, 700, 3, 200, 2}, {TracebackIndex{1}, 1, 50, 0, 0, 0}};
  original.peak_view = PeakView{200, true};
  const std::string text = to_json(original);
  require_identical(original, parse_snapshot_json(text, "memory"));
  CHECK(nlohmann::json::parse(text)["peak_view"] == nlohmann::json::parse(R"({"total":200,"since":"previous_snapshot"})"));
  CHECK(nlohmann::json::parse(text)["activity"][0] ==
        nlohmann::json::parse(R"({"traceback":0,"calls":7,"allocated_size":700,"temporary":3,"peak_size":200,"peak_count":2})"));
  const Snapshot without = parse_snapshot_json(to_json(full_snapshot()), "memory");
  CHECK(without.activity.empty());
  CHECK_FALSE(without.peak_view.has_value());

  original.activity[1].traceback = TracebackIndex{999};
  CHECK_THROWS_WITH(to_json(original), Catch::Contains("/activity/1/traceback"));
}

TEST_CASE("an empty snapshot round-trips", "[snapshot_json]") {
  const Snapshot empty;
  require_identical(empty, parse_snapshot_json(to_json(empty), "memory"));
}

TEST_CASE("the JSON layout is the documented one", "[snapshot_json]") {
  const nlohmann::json document = nlohmann::json::parse(to_json(full_snapshot()));
  CHECK(document["format"] == "heapsnap-snapshot");
  CHECK(document["version"] == 1);
  CHECK(document["traceback_limit"] == 16);
  CHECK(document["process"]["pid"] == 4242);
  CHECK(document["process"]["argv"][2] == "ünïcode arg");
  CHECK(document["process"]["reason"] == "exit");
  CHECK(document["process"]["unix_time_ms"] == 1767225600123);
  CHECK(document["memory"]["current"] == 123456789);
  CHECK(document["memory"]["peak"] == 987654321);
  CHECK(document["leak_analysis"] == true);
  CHECK(document["sampling_rate"] == 524288);
  // Frames are stored once: widget.cpp:12 is used by two tracebacks but listed one time.
  int widget_frames = 0;
  for (const auto& frame : document["frames"]) widget_frames += frame["filename"] == "/src/widget.cpp";
  CHECK(widget_frames == 1);
  CHECK(document["frames"][0]["function"] == "Widget::make(int)");
  CHECK(document["frames"][0]["address"] == "0x401234");
  CHECK(document["tracebacks"][0]["frames"] == nlohmann::json::array({0, 1}));
  CHECK(document["tracebacks"][0]["total_nframe"] == 7);
  CHECK(document["traces"][0]["reachability"] == "direct");
  CHECK(document["traces"][2]["reachability"] == "cycle");
  CHECK(document["traces"][2]["domain"] == 7);
  CHECK(document["traces"][4]["size"] == 18446744073709551615ULL);
  // Cycles: addresses in hexadecimal like frames', tracebacks by index, an unknown offset as null.
  const auto& pair = document["cycles"][0];
  CHECK(pair["members"][1] == nlohmann::json({{"address", "0x7f0000002000"}, {"size", 48}, {"traceback", 1}}));
  CHECK(pair["edges"][1] == nlohmann::json({{"from", 0}, {"to", 1}, {"offset", 24}}));
  CHECK(pair["bytes"] == 96);
  CHECK(pair["reachable"] == false);
  CHECK(document["cycles"][1]["members"][0]["address"] == "0xffffffffffffffff");
  CHECK(document["cycles"][1]["edges"][0]["offset"].is_null());
  CHECK(document["cycles"][2]["reachable"] == true);
}

TEST_CASE("a file without cycles (written before they were recorded) reads with none", "[snapshot_json]") {
  nlohmann::json document = nlohmann::json::parse(to_json(full_snapshot()));
  document.erase("cycles");
  const Snapshot snapshot = parse_snapshot_json(document.dump(), "older.json");
  CHECK(snapshot.cycles.empty());
  CHECK(snapshot.traces.size() == full_snapshot().traces.size());
}

TEST_CASE("writing a snapshot with an inconsistent cycle fails before writing anything", "[snapshot_json]") {
  const auto failure = [](auto&& change) {
    Snapshot snapshot = full_snapshot();
    change(snapshot.cycles);
    std::ostringstream out;
    try {
      write_snapshot_json(snapshot, out);
    } catch (const SnapshotError& error) {
      CHECK(out.str().empty());
      return error.position() + ": " + error.reason();
    }
    return std::string("no error");
  };
  CHECK_THAT(failure([](std::vector<Cycle>& c) { c[1].members[0].traceback = TracebackIndex{5}; }),
             Catch::StartsWith("/cycles/1/members/0/traceback: traceback 5 does not exist"));
  CHECK_THAT(failure([](std::vector<Cycle>& c) { c[0].edges[3].to = 2; }),
             Catch::StartsWith("/cycles/0/edges/3/to: member 2 does not exist"));
  CHECK_THAT(failure([](std::vector<Cycle>& c) { c[2].bytes = 4; }),
             Catch::StartsWith("/cycles/2/bytes: 4 is not the sum of the members' sizes (3)"));
  CHECK_THAT(failure([](std::vector<Cycle>& c) { c[1].edges.clear(); }), Catch::StartsWith("/cycles/1/edges: "));
  CHECK_THAT(failure([](std::vector<Cycle>& c) { c[0].members.clear(); }),
             Catch::StartsWith("/cycles/0/members: "));
}

TEST_CASE("optional fields take their documented defaults", "[snapshot_json]") {
  const Snapshot snapshot = parse_snapshot_json(R"({"format": "heapsnap-snapshot", "version": 1,
      "traceback_limit": 1, "frames": [{"filename": "a.py", "lineno": 3}],
      "tracebacks": [{"frames": [0]}], "traces": [{"traceback": 0, "size": 5, "count": 1}],
      "future_field": {"ignored": true}})",
                                                "minimal");
  REQUIRE(snapshot.traces.size() == 1);
  CHECK(snapshot.traces[0].domain == 0);
  CHECK(snapshot.traces[0].reachability == Reachability::NotAnalyzed);
  CHECK(snapshot.tracebacks[0].total_nframe == 1);
  CHECK(snapshot.tracebacks[0].frames[0].function.empty());
  CHECK(snapshot.tracebacks[0].frames[0].address == 0);
  CHECK_FALSE(snapshot.leak_analysis);
  CHECK(snapshot.sampling_rate == 0);
  CHECK(snapshot.cycles.empty());
  CHECK(snapshot.process.pid == 0);
}

TEST_CASE("invalid UTF-8 is written as U+FFFD instead of failing", "[snapshot_json]") {
  Snapshot snapshot;
  snapshot.process.argv = {"bad\xff byte"};
  const Snapshot copy = parse_snapshot_json(to_json(snapshot), "memory");
  CHECK(copy.process.argv[0] == "bad\xEF\xBF\xBD byte");
}

TEST_CASE("writing a snapshot whose trace names a missing traceback fails", "[snapshot_json]") {
  Snapshot snapshot = full_snapshot();
  snapshot.traces[1].traceback = TracebackIndex{99};
  std::ostringstream out;
  CHECK_THROWS_WITH(write_snapshot_json(snapshot, out), Catch::Contains("/traces/1/traceback"));
}

TEST_CASE("save_snapshot writes atomically with mode 0600, load_snapshot reads it back", "[snapshot_json]") {
  const TempDirectory directory;
  const auto path = directory / "snap.json";
  save_snapshot(full_snapshot(), path);
  require_identical(full_snapshot(), load_snapshot(path));
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);
  // Only the snapshot is left: the temporary file was renamed.
  CHECK(std::distance(std::filesystem::directory_iterator(directory.path()), {}) == 1);

  // Saving again replaces the file.
  Snapshot other;
  other.traceback_limit = 3;
  save_snapshot(other, path);
  CHECK(load_snapshot(path).traceback_limit == 3);
}

TEST_CASE("save_snapshot never follows a symlink planted at its temporary name", "[snapshot_json]") {
  const TempDirectory directory;
  const auto path = directory / "snap.json";
  const auto victim = directory / "victim";
  heapsnap::test::write_text_file(victim, "precious");
  // The first temporary names save_snapshot tries in this process.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto planted = directory / (".snap.json.tmp." + std::to_string(::getpid()) + "." + std::to_string(attempt));
    std::filesystem::create_symlink(victim, planted);
  }
  save_snapshot(full_snapshot(), path);
  CHECK(heapsnap::test::read_text_file(victim) == "precious");
  CHECK(std::filesystem::is_symlink(directory / (".snap.json.tmp." + std::to_string(::getpid()) + ".0")));
  require_identical(full_snapshot(), load_snapshot(path));
}

TEST_CASE("save_snapshot reports a directory it cannot write to", "[snapshot_json]") {
  const TempDirectory directory;
  const auto path = directory / "missing-directory" / "snap.json";
  try {
    save_snapshot(full_snapshot(), path);
    FAIL("save_snapshot did not throw");
  } catch (const SnapshotError& error) {
    CHECK(error.file() == path.string());
    CHECK_THAT(error.what(), Catch::Contains("No such file or directory"));
  }
}

TEST_CASE("write_file_atomically with ExistingFile::Keep refuses to replace a file", "[snapshot_json]") {
  const TempDirectory directory;
  const auto path = directory / "report.txt";
  write_file_atomically(path, [](std::ostream& out) { out << "first"; }, ExistingFile::Keep);
  // A typed error, so callers tell "exists" from other failures without reading the message.
  CHECK_THROWS_AS(write_file_atomically(path, [](std::ostream& out) { out << "second"; }, ExistingFile::Keep),
                  heapsnap::FileExistsError);
  CHECK_THROWS_WITH(write_file_atomically(path, [](std::ostream& out) { out << "second"; }, ExistingFile::Keep),
                    path.string() + ": already exists");
  CHECK(heapsnap::test::read_text_file(path) == "first");
  CHECK(std::distance(std::filesystem::directory_iterator(directory.path()), {}) == 1);  // no temporary left
  write_file_atomically(path, [](std::ostream& out) { out << "third"; }, ExistingFile::Replace);
  CHECK(heapsnap::test::read_text_file(path) == "third");
}

TEST_CASE("a failing writer leaves neither the file nor a temporary", "[snapshot_json]") {
  const TempDirectory directory;
  const auto path = directory / "out.json";
  CHECK_THROWS_AS(write_file_atomically(path, [](std::ostream&) { throw std::runtime_error("boom"); },
                                        ExistingFile::Replace),
                  std::runtime_error);
  CHECK(std::filesystem::is_empty(directory.path()));
}

TEST_CASE("dump and load keep traces, traceback_limit and total_nframe, as in test_tracemalloc", "[snapshot_json]") {
  // CPython's TestTracemallocEnabled.test_snapshot (dump/load give equal traces) and
  // TestSnapshot.test_create_snapshot (a 1-frame traceback of a 10-frame stack, limit 5).
  const TempDirectory directory;
  const auto [snapshot, snapshot2] = heapsnap::test::create_snapshots();
  save_snapshot(snapshot, directory / "snapshot.json");
  const Snapshot loaded = load_snapshot(directory / "snapshot.json");
  require_identical(loaded, snapshot);
  CHECK(loaded.traceback_limit == 2);

  const Snapshot created = heapsnap::test::SnapshotBuilder()
                               .traceback_limit(5)
                               .add(0, 5, heapsnap::test::stack({heapsnap::test::frame("a.py", 2)}, 10))
                               .build();
  save_snapshot(created, directory / "created.json");
  const Snapshot reloaded = load_snapshot(directory / "created.json");
  CHECK(reloaded.traceback_limit == 5);
  REQUIRE(reloaded.traces.size() == 1);
  CHECK(reloaded.traces[0].size == 5);
  const Traceback& traceback = reloaded.traceback_of(reloaded.traces[0]);
  CHECK(traceback.total_nframe == 10);
  REQUIRE(traceback.frames.size() == 1);
  CHECK(traceback.frames[0].filename == "a.py");
  CHECK(traceback.frames[0].lineno == 2);
}

// ---------------------------------------------------------------------------------------------------
// The binary (CBOR) encoding

namespace {

std::string to_cbor(const Snapshot& snapshot) {
  std::ostringstream out;
  write_snapshot_cbor(snapshot, out);
  return out.str();
}

}  // namespace

TEST_CASE("a snapshot survives a CBOR round trip in every field, and CBOR is smaller", "[snapshot_cbor]") {
  const Snapshot original = full_snapshot();
  const std::string bytes = to_cbor(original);
  REQUIRE(bytes.starts_with(kCborMagic));
  require_identical(original, parse_snapshot(bytes, "memory"));
  CHECK(bytes.size() < to_json(original).size());
  // parse_snapshot tells the encodings apart by the magic bytes alone.
  require_identical(original, parse_snapshot(to_json(original), "memory"));
}

TEST_CASE("save_snapshot writes CBOR on request and load_snapshot reads either encoding", "[snapshot_cbor]") {
  const TempDirectory dir;
  const auto binary = dir.path() / "s.cbor";
  const auto text = dir.path() / "s.json";
  save_snapshot(full_snapshot(), binary, SnapshotEncoding::Cbor);
  save_snapshot(full_snapshot(), text);
  // The files hold the encodings asked for, byte for byte, not merely something both load.
  CHECK(heapsnap::test::read_text_file(binary) == to_cbor(full_snapshot()));
  CHECK(heapsnap::test::read_text_file(text) == to_json(full_snapshot()));
  require_identical(load_snapshot(binary), load_snapshot(text));
}

TEST_CASE("a truncated CBOR snapshot is rejected with the byte where it ends", "[snapshot_cbor]") {
  const std::string bytes = to_cbor(full_snapshot());
  const std::string truncated = bytes.substr(0, bytes.size() / 2);
  CHECK_THROWS_WITH(parse_snapshot(truncated, "half.cbor"),
                    Catch::StartsWith("half.cbor: byte " + std::to_string(truncated.size()) + ": truncated CBOR"));
}

TEST_CASE("CBOR that is not a snapshot is rejected with a position and a reason", "[snapshot_cbor]") {
  using Catch::Contains;
  using Catch::StartsWith;
  const std::string magic(kCborMagic);
  CHECK_THROWS_WITH(parse_snapshot(magic + "\xff", "bad.cbor"), StartsWith("bad.cbor: byte 3: not valid CBOR"));
  CHECK_THROWS_WITH(parse_snapshot(magic + "\x01", "number.cbor"), Contains("(root): expected an object"));
  CHECK_THROWS_WITH(parse_snapshot(magic, "empty.cbor"), StartsWith("empty.cbor: byte 3: truncated CBOR"));
  // A valid JSON snapshot's fields, with a wrong type deep inside, as CBOR: the schema error has a pointer.
  nlohmann::json document = nlohmann::json::parse(to_json(full_snapshot()));
  document["traces"][0]["size"] = "many";
  std::string wrong = magic;
  nlohmann::json::to_cbor(document, wrong);
  CHECK_THROWS_WITH(parse_snapshot(wrong, "wrong.cbor"), StartsWith("wrong.cbor: /traces/0/size"));
}

TEST_CASE("deeply nested CBOR is refused before it can exhaust the stack", "[snapshot_cbor]") {
  // One-element arrays nested a million deep: 1 MB of input that a recursive reader would die on.
  std::string bytes(kCborMagic);
  bytes.append(1'000'000, '\x81');
  bytes.push_back('\x00');
  CHECK_THROWS_WITH(parse_snapshot(bytes, "deep.cbor"), Catch::Contains("nested more than"));
}

TEST_CASE("bad frees survive both encodings, and a dangling traceback is refused", "[snapshot_json]") {
  Snapshot snapshot = full_snapshot();
  REQUIRE(snapshot.tracebacks.size() >= 2);
  snapshot.free_errors.push_back({FreeErrorKind::DoubleFree, TracebackIndex{1}, TracebackIndex{0}, 3, 0x7f0000001000});
  snapshot.free_errors.push_back({FreeErrorKind::InvalidFree, TracebackIndex{0}, std::nullopt, 1, 0x7f0000002010});
  for (const Snapshot& copy : {parse_snapshot(to_json(snapshot), "j"), parse_snapshot(to_cbor(snapshot), "c")}) {
    REQUIRE(copy.free_errors.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(copy.free_errors[i].kind == snapshot.free_errors[i].kind);
      CHECK(copy.free_errors[i].freed_at == snapshot.free_errors[i].freed_at);
      CHECK(copy.free_errors[i].allocated_at == snapshot.free_errors[i].allocated_at);
      CHECK(copy.free_errors[i].count == snapshot.free_errors[i].count);
      CHECK(copy.free_errors[i].address == snapshot.free_errors[i].address);
    }
  }
  CHECK(to_json(full_snapshot()).find("free_errors") == std::string::npos);  // absent when there are none

  nlohmann::json document = nlohmann::json::parse(to_json(snapshot));
  document["free_errors"][1]["freed_at"] = 999;
  CHECK_THROWS_WITH(parse_snapshot_json(document.dump(), "bad.json"),
                    Catch::StartsWith("bad.json: /free_errors/1/freed_at: traceback 999 does not exist"));
  document = nlohmann::json::parse(to_json(snapshot));
  document["free_errors"][0]["kind"] = "triple_free";
  CHECK_THROWS_WITH(parse_snapshot_json(document.dump(), "bad.json"),
                    Catch::StartsWith("bad.json: /free_errors/0/kind: unknown kind"));
}

TEST_CASE("CBOR strings in chunks are read; chunks that are chunked strings again are refused", "[snapshot_cbor]") {
  // The format's value, "heapsnap-snapshot" (a text string of 17 bytes: 0x71), written in two chunks.
  const std::string bytes = to_cbor(full_snapshot());
  const std::string whole = "\x71heapsnap-snapshot";
  const std::size_t at = bytes.find(whole);
  REQUIRE(at != std::string::npos);
  std::string chunked = bytes;
  chunked.replace(at, whole.size(), "\x7f\x68heapsnap\x69-snapshot\xff");
  require_identical(full_snapshot(), parse_snapshot(chunked, "chunked.cbor"));

  // RFC 8949 forbids a chunk that is an indefinite-length string itself; nlohmann would recurse into
  // it, so a megabyte of 0x7f overflowed the stack (found by fuzz_snapshot_cbor).
  std::string nested = bytes;
  nested.replace(at, whole.size(), "\x7f\x7f\x68heapsnap\xff\x69-snapshot\xff");
  CHECK_THROWS_WITH(parse_snapshot(nested, "nested.cbor"),
                    "nested.cbor: byte " + std::to_string(at + 1) +
                        ": not valid CBOR: an indefinite-length string inside another (RFC 8949 forbids it)");
  std::string deep(kCborMagic);
  deep.append(1'000'000, '\x7f');
  CHECK_THROWS_WITH(parse_snapshot(deep, "deep.cbor"), Catch::StartsWith("deep.cbor: byte 4: not valid CBOR"));
  std::string key(kCborMagic);  // map keys are read the same way
  key += "\xa1";
  key.append(1'000'000, '\x5f');
  CHECK_THROWS_WITH(parse_snapshot(key, "key.cbor"), Catch::StartsWith("key.cbor: byte 5: not valid CBOR"));
}

TEST_CASE("how the threads were stopped survives both encodings, absent when not recorded", "[snapshot_json]") {
  Snapshot snapshot = full_snapshot();
  snapshot.leak_analysis = true;
  snapshot.thread_stop = ThreadStop{StopMethod::Signals, "ptrace not permitted: PTRACE_SEIZE of thread 7: Operation not permitted", 3, 1};
  for (const Snapshot& copy : {parse_snapshot(to_json(snapshot), "j"), parse_snapshot(to_cbor(snapshot), "c")}) {
    REQUIRE(copy.thread_stop.has_value());
    CHECK(copy.thread_stop->method == StopMethod::Signals);
    CHECK(copy.thread_stop->fallback_reason == snapshot.thread_stop->fallback_reason);
    CHECK(copy.thread_stop->threads_scanned == 3);
    CHECK(copy.thread_stop->threads_unscanned == 1);
  }
  // Files written before it was recorded, and snapshots without a leak analysis, have none.
  CHECK(to_json(full_snapshot()).find("thread_stop") == std::string::npos);
  CHECK_FALSE(parse_snapshot(to_json(full_snapshot()), "old.json").thread_stop.has_value());

  nlohmann::json document = nlohmann::json::parse(to_json(snapshot));
  document["thread_stop"].erase("fallback_reason");
  document["thread_stop"]["method"] = "ptrace";
  const Snapshot without_reason = parse_snapshot_json(document.dump(), "ok.json");
  CHECK(without_reason.thread_stop->method == StopMethod::Ptrace);
  CHECK(without_reason.thread_stop->fallback_reason.empty());
  document["thread_stop"]["method"] = "telepathy";
  CHECK_THROWS_WITH(parse_snapshot_json(document.dump(), "bad.json"),
                    Catch::StartsWith("bad.json: /thread_stop/method: unknown method \"telepathy\""));
  document["thread_stop"]["method"] = "signals";
  document["thread_stop"]["threads_unscanned"] = -1;
  CHECK_THROWS_WITH(parse_snapshot_json(document.dump(), "bad.json"),
                    Catch::StartsWith("bad.json: /thread_stop/threads_unscanned: expected a non-negative integer"));
}
