// Every kind of unusable snapshot input gives a SnapshotError naming the file, the position and the
// reason, and nothing crashes or hangs on hostile input.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <random>
#include <sstream>

#include "snapshot/snapshot_json.h"
#include "test/support/snapshot_factory.h"
#include "test/support/temp_directory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

struct Failure {
  std::string file;
  std::string position;
  std::string reason;
  std::string what;
};

Failure parse_failure(const std::string& text) {
  try {
    parse_snapshot_json(text, "input.json");
  } catch (const SnapshotError& error) {
    return {error.file(), error.position(), error.reason(), error.what()};
  }
  FAIL("no SnapshotError for: " << text.substr(0, 200));
  return {};
}

// A valid document whose parts the tests replace one at a time.
struct Document {
  std::string head = R"("format": "heapsnap-snapshot", "version": 1)";
  std::string process = R"({"pid": 1, "argv": ["a"], "executable": "/a", "reason": "exit", "unix_time_ms": 0})";
  std::string frames = R"([{"filename": "a.c", "lineno": 1, "function": "f", "module": "", "address": "0x10"}])";
  std::string tracebacks = R"([{"frames": [0], "total_nframe": 1}])";
  std::string traces = R"([{"domain": 0, "traceback": 0, "size": 8, "count": 1}])";
  std::string cycles = R"([{"members": [{"address": "0x1000", "size": 8, "traceback": 0}],
                            "edges": [{"from": 0, "to": 0, "offset": null}], "bytes": 8, "reachable": false}])";

  std::string text() const {
    return "{" + head + R"(, "traceback_limit": 16, "process": )" + process +
           R"(, "memory": {"current": 8, "peak": 8}, "leak_analysis": false, "frames": )" + frames +
           R"(, "tracebacks": )" + tracebacks + R"(, "traces": )" + traces +
           R"(, "cycles": )" + cycles + "}";
  }
};

std::string with_head(std::string head) {
  Document d;
  d.head = std::move(head);
  return d.text();
}
std::string with_process(std::string process) {
  Document d;
  d.process = std::move(process);
  return d.text();
}
std::string with_frames(std::string frames) {
  Document d;
  d.frames = std::move(frames);
  return d.text();
}
std::string with_tracebacks(std::string tracebacks) {
  Document d;
  d.tracebacks = std::move(tracebacks);
  return d.text();
}
std::string with_traces(std::string traces) {
  Document d;
  d.traces = std::move(traces);
  return d.text();
}
std::string with_cycles(std::string cycles) {
  Document d;
  d.cycles = std::move(cycles);
  return d.text();
}
// One cycle of two 8-byte members of traceback 0, with `edges` and `bytes` as given.
std::string two_members(const std::string& edges, const std::string& bytes = "16") {
  return with_cycles(R"([{"members": [{"address": "0x10", "size": 8, "traceback": 0},
                                      {"address": "0x20", "size": 8, "traceback": 0}], "edges": )" +
                     edges + R"(, "bytes": )" + bytes + "}]");
}

}  // namespace

TEST_CASE("the test document is valid", "[snapshot_json][errors]") {
  const Snapshot snapshot = parse_snapshot_json(Document().text(), "input.json");
  CHECK(snapshot.traces.size() == 1);
  REQUIRE(snapshot.cycles.size() == 1);
  CHECK(snapshot.cycles[0].edges[0].offset == kUnknownEdgeOffset);
  CHECK(parse_snapshot_json(two_members(R"([{"from": 0, "to": 1, "offset": 0}, {"from": 1, "to": 0, "offset": 8}])"),
                            "input.json")
            .cycles[0]
            .members.size() == 2);
}

TEST_CASE("malformed JSON is reported with line, column and byte offset", "[snapshot_json][errors]") {
  const Failure garbage = parse_failure("hello");
  CHECK(garbage.file == "input.json");
  CHECK(garbage.position == "line 1, column 1 (byte 0)");
  CHECK_THAT(garbage.reason, Catch::StartsWith("not valid JSON"));
  CHECK_THAT(garbage.what, Catch::StartsWith("input.json: line 1, column 1 (byte 0): not valid JSON"));

  const Failure second_line = parse_failure("{\n  \"format\": nope}");
  CHECK(second_line.position == "line 2, column 14 (byte 15)");  // at the 'o' that ends "n..." (null)

  const Failure trailing = parse_failure(Document().text() + " x");
  CHECK_THAT(trailing.reason, Catch::Contains("expected end of input"));
}

TEST_CASE("a truncated file says so, at its end", "[snapshot_json][errors]") {
  const std::string full = Document().text();
  const std::string cut = full.substr(0, full.size() / 2);
  const Failure failure = parse_failure(cut);
  CHECK_THAT(failure.reason, Catch::StartsWith("truncated JSON"));
  CHECK_THAT(failure.position, Catch::EndsWith("(byte " + std::to_string(cut.size()) + ")"));

  // Every prefix of a valid snapshot is an error, never a crash or a partial snapshot.
  for (std::size_t length = 0; length < full.size(); ++length) {
    INFO("prefix length " << length);
    CHECK_THROWS_AS(parse_snapshot_json(full.substr(0, length), "input.json"), SnapshotError);
  }
}

TEST_CASE("an empty input is not a snapshot", "[snapshot_json][errors]") {
  CHECK_THAT(parse_failure("").reason, Catch::Contains("empty file"));
}

TEST_CASE("a JSON document that is not a heapsnap snapshot", "[snapshot_json][errors]") {
  const Failure array = parse_failure("[1, 2]");
  CHECK(array.position == "(root)");
  CHECK_THAT(array.reason, Catch::Contains("expected an object"));

  const Failure missing = parse_failure(R"({"traces": []})");
  CHECK(missing.position == "/format");
  CHECK_THAT(missing.reason, Catch::Contains("not a heapsnap snapshot"));

  const Failure other = parse_failure(with_head(R"("format": "heapsnap-leak-report", "version": 1)"));
  CHECK(other.position == "/format");
  CHECK_THAT(other.reason, Catch::Contains("\"heapsnap-leak-report\""));
}

TEST_CASE("an unsupported version is refused", "[snapshot_json][errors]") {
  const Failure future = parse_failure(with_head(R"("format": "heapsnap-snapshot", "version": 2)"));
  CHECK(future.position == "/version");
  CHECK_THAT(future.reason, Catch::Contains("unsupported version 2"));
  const Failure text = parse_failure(with_head(R"("format": "heapsnap-snapshot", "version": "1")"));
  CHECK(text.position == "/version");
  const Failure missing = parse_failure(with_head(R"("format": "heapsnap-snapshot")"));
  CHECK(missing.position == "/version");
  CHECK(missing.reason == "missing");
}

TEST_CASE("wrong types are reported with their JSON pointer", "[snapshot_json][errors]") {
  const std::string good = R"({"domain": 0, "traceback": 0, "size": 8, "count": 1})";
  const Failure text_size = parse_failure(with_traces("[" + good + "," + good + "," + good +
                                                   R"(, {"traceback": 0, "size": "big", "count": 1}])"));
  CHECK(text_size.position == "/traces/3/size");
  CHECK_THAT(text_size.reason, Catch::Contains("expected a non-negative integer, got string \"big\""));
  CHECK_THAT(text_size.what, Catch::StartsWith("input.json: /traces/3/size: "));

  CHECK(parse_failure(with_traces(R"({"not": "an array"})")).position == "/traces");
  CHECK(parse_failure(with_traces(R"([7])")).position == "/traces/0");
  CHECK(parse_failure(with_traces(R"([{"traceback": 0, "size": 1, "count": 1.5}])")).position == "/traces/0/count");
  CHECK(parse_failure(with_traces(R"([{"traceback": 0, "size": 1, "count": true}])")).position == "/traces/0/count");
  CHECK(parse_failure(with_traces(R"([{"traceback": 0, "size": 1}])")).position == "/traces/0/count");
  CHECK(parse_failure(with_traces(R"([{"traceback": 0, "size": 1, "count": 1, "domain": -1}])")).position ==
        "/traces/0/domain");
  CHECK(parse_failure(with_tracebacks(R"([{"frames": "0"}])")).position == "/tracebacks/0/frames");
  CHECK(parse_failure(with_frames(R"([{"filename": 3, "lineno": 1}])")).position == "/frames/0/filename");
  CHECK(parse_failure(with_frames(R"([{"lineno": 1}])")).position == "/frames/0/filename");
  CHECK(parse_failure(with_process(R"({"argv": ["a", 2]})"))
            .position == "/process/argv/1");
  CHECK(parse_failure(with_process(R"({"pid": "1"})"))
            .position == "/process/pid");
  CHECK(parse_failure(with_head(R"("format": "heapsnap-snapshot", "version": 1, "sampling_rate": -1)"))
            .position == "/sampling_rate");
}

TEST_CASE("a frame's build-id is checked, and comes with its module offset", "[snapshot_json][errors]") {
  const auto frames = [](const std::string& extra) {
    return with_frames(R"([{"filename": "/lib/libc.so.6", "lineno": 0, "function": "0x27249", "module": "/lib/libc.so.6",
                            "address": "0x10")" + extra + "}]");
  };
  const Snapshot snapshot = parse_snapshot_json(frames(R"(, "build_id": "93ac61ec", "offset": "0x27249")"), "input.json");
  CHECK(snapshot.tracebacks[0].frames[0].build_id == "93ac61ec");
  CHECK(snapshot.tracebacks[0].frames[0].offset == 0x27249);
  const auto bad_id = parse_failure(frames(R"(, "build_id": "93AC", "offset": "0x1")"));
  CHECK(bad_id.position == "/frames/0/build_id");
  CHECK(bad_id.reason == "expected a build-id: 2 to 128 lowercase hexadecimal digits, an even number, got \"93AC\"");
  CHECK(parse_failure(frames(R"(, "build_id": "abc", "offset": "0x1")")).position == "/frames/0/build_id");
  const auto no_offset = parse_failure(frames(R"(, "build_id": "abcd")"));
  CHECK(no_offset.position == "/frames/0/offset");
  CHECK(no_offset.reason == "missing");
  CHECK(parse_failure(frames(R"(, "build_id": "abcd", "offset": 12)")).position == "/frames/0/offset");
}

TEST_CASE("negative and out-of-range numbers are refused", "[snapshot_json][errors]") {
  const Failure negative = parse_failure(with_traces(R"([{"traceback": 0, "size": -5, "count": 1}])"));
  CHECK(negative.position == "/traces/0/size");
  CHECK_THAT(negative.reason, Catch::Contains("got -5"));

  const Failure too_big = parse_failure(with_traces(R"([{"traceback": 0, "size": 18446744073709551616, "count": 1}])"));
  CHECK(too_big.position == "/traces/0/size");

  const Failure lineno = parse_failure(with_frames(R"([{"filename": "a.c", "lineno": 4294967296}])"));
  CHECK(lineno.position == "/frames/0/lineno");
  CHECK_THAT(lineno.reason, Catch::Contains("out of range"));

  // A number too large for a double is a JSON error, not a crash.
  CHECK_THAT(parse_failure(with_traces(R"([{"traceback": 0, "size": 1e999, "count": 1}])")).reason,
             Catch::Contains("not valid JSON"));
}

TEST_CASE("indices that point nowhere are refused", "[snapshot_json][errors]") {
  const Failure traceback = parse_failure(with_traces(R"([{"traceback": 1, "size": 8, "count": 1}])"));
  CHECK(traceback.position == "/traces/0/traceback");
  CHECK_THAT(traceback.reason, Catch::Contains("traceback 1 does not exist"));

  const Failure frame = parse_failure(with_tracebacks(R"([{"frames": [0, 1]}])"));
  CHECK(frame.position == "/tracebacks/0/frames/1");
  CHECK_THAT(frame.reason, Catch::Contains("frame 1 does not exist"));
}

TEST_CASE("cycles are checked like the rest: types, indices, and their bytes", "[snapshot_json][errors]") {
  const std::string edges = R"([{"from": 0, "to": 1, "offset": 0}, {"from": 1, "to": 0, "offset": 8}])";
  const Failure member = parse_failure(two_members(R"([{"from": 0, "to": 1, "offset": 0}, {"from": 1, "to": 2, "offset": 8}])"));
  CHECK(member.position == "/cycles/0/edges/1/to");
  CHECK(member.reason == "member 2 does not exist (the cycle has 2 members)");

  const Failure traceback = parse_failure(with_cycles(
      R"([{"members": [{"address": "0x10", "size": 8, "traceback": 1}], "edges": [{"from": 0, "to": 0, "offset": 0}], "bytes": 8}])"));
  CHECK(traceback.position == "/cycles/0/members/0/traceback");
  CHECK_THAT(traceback.reason, Catch::Contains("traceback 1 does not exist"));

  const Failure bytes = parse_failure(two_members(edges, "17"));
  CHECK(bytes.position == "/cycles/0/bytes");
  CHECK(bytes.reason == "17 is not the sum of the members' sizes (16)");

  const Failure overflow = parse_failure(with_cycles(
      R"([{"members": [{"address": "0x10", "size": 18446744073709551615, "traceback": 0},
                       {"address": "0x20", "size": 1, "traceback": 0}], "edges": [], "bytes": 0}])"));
  CHECK(overflow.position == "/cycles/0/members/1/size");

  const Failure lonely = parse_failure(with_cycles(
      R"([{"members": [{"address": "0x10", "size": 8, "traceback": 0}], "edges": [], "bytes": 8}])"));
  CHECK(lonely.position == "/cycles/0/edges");
  CHECK(parse_failure(with_cycles(R"([{"members": [], "edges": [], "bytes": 0}])")).position == "/cycles/0/members");

  CHECK(parse_failure(with_cycles(R"({})")).position == "/cycles");
  CHECK(parse_failure(with_cycles(R"([{"edges": [], "bytes": 0}])")).position == "/cycles/0/members");
  CHECK(parse_failure(two_members(edges, "-16")).position == "/cycles/0/bytes");
  CHECK(parse_failure(two_members(R"([{"from": 0, "to": 1}])")).position == "/cycles/0/edges/0/offset");
  CHECK(parse_failure(two_members(R"([{"from": 0, "to": 1, "offset": "8"}])")).position == "/cycles/0/edges/0/offset");
  CHECK_THAT(parse_failure(two_members(R"([{"from": 0, "to": 1, "offset": 18446744073709551615}])")).reason,
             Catch::Contains("null"));
  CHECK(parse_failure(two_members(R"([{"from": -1, "to": 1, "offset": 0}])")).position == "/cycles/0/edges/0/from");
  CHECK(parse_failure(with_cycles(R"([{"members": [{"address": 16, "size": 8, "traceback": 0}],
                                       "edges": [{"from": 0, "to": 0, "offset": 0}], "bytes": 8}])"))
            .position == "/cycles/0/members/0/address");
  CHECK(parse_failure(with_cycles(R"([{"members": [{"address": "0x10", "size": 8, "traceback": 0}],
                                       "edges": [{"from": 0, "to": 0, "offset": 0}], "bytes": 8, "reachable": 1}])"))
            .position == "/cycles/0/reachable");
}

TEST_CASE("enumerations and addresses are checked", "[snapshot_json][errors]") {
  const Failure reachability =
      parse_failure(with_traces(R"([{"traceback": 0, "size": 8, "count": 1, "reachability": "lost"}])"));
  CHECK(reachability.position == "/traces/0/reachability");
  CHECK_THAT(reachability.reason, Catch::Contains("unknown reachability \"lost\""));

  for (const char* address : {R"("0xZZ")", R"("1234")", R"("0x")", R"(4096)", R"("0x12 ")"}) {
    INFO(address);
    CHECK(parse_failure(with_frames(std::string(R"([{"filename": "a", "lineno": 1, "address": )") + address + "}]"))
              .position == "/frames/0/address");
  }
  CHECK_THAT(parse_failure(with_frames(R"([{"filename": "a", "lineno": 1, "address": "0x10000000000000000"}])"))
                 .reason,
             Catch::Contains("exceeds 64 bits"));
}

TEST_CASE("hostile input neither crashes nor hangs", "[snapshot_json][errors]") {
  // Deep nesting: the parser is not recursive, and destroying the result is not either.
  CHECK_THROWS_AS(parse_snapshot_json(std::string(200000, '['), "deep.json"), SnapshotError);
  CHECK_THROWS_AS(parse_snapshot_json(std::string(100000, '[') + std::string(100000, ']'), "deep.json"),
                  SnapshotError);
  // NUL bytes and invalid UTF-8.
  CHECK_THROWS_AS(parse_snapshot_json(std::string("{\"format\0\"", 11), "nul.json"), SnapshotError);
  CHECK_THROWS_AS(parse_snapshot_json("{\"format\": \"\xff\xfe\"}", "utf8.json"), SnapshotError);
  // The reason never echoes raw input bytes.
  CHECK(parse_failure("{\"a\": \x01\xff}").reason.find('\xff') == std::string::npos);

  // Seeded random corruption of a valid file: a snapshot or a SnapshotError, nothing else.
  std::ostringstream out;
  write_snapshot_json(heapsnap::test::full_snapshot(), out);
  const std::string valid = out.str();
  std::mt19937 random(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string text = valid;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0: text[at] = static_cast<char>(random() % 256); break;
        case 1: text.erase(at, 1 + random() % 8); break;
        default: text.insert(at, 1, "{}[],:\"0-9e"[random() % 11]); break;
      }
    }
    try {
      parse_snapshot_json(text, "fuzz.json");
    } catch (const SnapshotError&) {
    }
  }
  SUCCEED("no crash and no exception other than SnapshotError");
}

TEST_CASE("load_snapshot names the file in every error", "[snapshot_json][errors]") {
  const TempDirectory directory;

  const auto missing = directory / "missing.json";
  try {
    load_snapshot(missing);
    FAIL("no error for a missing file");
  } catch (const SnapshotError& error) {
    CHECK(error.file() == missing.string());
    CHECK(error.position().empty());
    CHECK(error.reason() == "No such file or directory");
    CHECK(std::string(error.what()) == missing.string() + ": No such file or directory");
  }

  CHECK_THROWS_WITH(load_snapshot(directory.path()), Catch::EndsWith(": is a directory"));

  // A FIFO would block a reader forever: it is refused without waiting for a writer.
  const auto fifo = directory / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(load_snapshot(fifo), Catch::EndsWith(": not a regular file"));

  const auto corrupt = directory / "corrupt.json";
  heapsnap::test::write_text_file(corrupt, "{\"format\": \"heapsnap-snapshot\", \"version\": 1, \"traces\": [");
  try {
    load_snapshot(corrupt);
    FAIL("no error for a truncated file");
  } catch (const SnapshotError& error) {
    CHECK(error.file() == corrupt.string());
    CHECK_THAT(error.position(), Catch::Contains("byte 57"));
    CHECK_THAT(error.reason(), Catch::StartsWith("truncated JSON"));
  }
}

TEST_CASE("a small file cannot expand into gigabytes of repeated frames", "[snapshot_json][errors]") {
  // One frame with a 100 KB name, referenced `references` times by a traceback: each reference copies it.
  const auto repeated = [](std::size_t references) {
    std::string frames;
    for (std::size_t i = 0; i < references; ++i) frames += i == 0 ? "0" : ",0";
    return R"({"format": "heapsnap-snapshot", "version": 1, "traceback_limit": 1, "frames": [{"filename": ")" +
           std::string(100000, 'f') + R"(", "lineno": 1}], "tracebacks": [{"frames": [)" + frames + R"(]}], "traces": []})";
  };
  // 500 copies (50 MB) fit the 64 MiB every input may expand to.
  CHECK(parse_snapshot_json(repeated(500), "ok.json").tracebacks.at(0).frames.size() == 500);
  // 5000 copies (500 MB) of a 110 KB file exceed 1024 times its size: refused at the copy that does.
  const std::string text = repeated(5000);
  try {
    parse_snapshot_json(text, "amplified.json");
    FAIL("no error");
  } catch (const SnapshotError& error) {
    CHECK_THAT(error.position(), Catch::StartsWith("/tracebacks/0/frames/"));
    const std::size_t copied = std::stoul(error.position().substr(std::string("/tracebacks/0/frames/").size())) + 1;
    const std::size_t cost = 100000 + sizeof(Frame);  // a copy: the name and the Frame itself
    CHECK((copied - 1) * cost <= 1024 * text.size());
    CHECK(copied * cost > 1024 * text.size());
    CHECK(error.reason() == "the tracebacks and cycle members refer to more than " +
                                std::to_string(1024 * text.size() >> 20) +
                                " MiB of frames in all (1024 times the input's size, at least 64 MiB): too much to read");
  }
  // Cycle members count too: reports copy each member's stack. 2000 members of a 300 KB stack.
  std::string members;
  for (int i = 0; i < 2000; ++i) {
    members += std::string(i == 0 ? "" : ",") + R"({"address": "0x)" + std::to_string(1000 + i) + R"(", "size": 1, "traceback": 0})";
  }
  const std::string cycle = R"({"format": "heapsnap-snapshot", "version": 1, "traceback_limit": 1, "frames": [{"filename": ")" +
                            std::string(300000, 'f') + R"(", "lineno": 1}], "tracebacks": [{"frames": [0]}], "traces": [],
      "cycles": [{"members": [)" + members + R"(], "edges": [], "bytes": 2000}]})";
  CHECK_THROWS_WITH(parse_snapshot_json(cycle, "cycle.json"), Catch::Contains(": /cycles/0/members/") &&
                                                                  Catch::Contains("/traceback: the tracebacks and cycle members refer to more than"));
}
