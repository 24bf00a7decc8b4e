// The exporters' own pieces: weighted stacks, collapsed lines, the speedscope document, the protobuf
// wire format and gzip. The consumers' parsers read the exports in test/exports.

#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "reporters/export/collapsed_export.h"
#include "reporters/export/export_stacks.h"
#include "reporters/export/gzip.h"
#include "reporters/export/pprof_export.h"
#include "reporters/export/protobuf_writer.h"
#include "reporters/export/speedscope_export.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

const Traceback kWidget = stack({frame("src/widget.cpp", 12, "make_widget"), frame("src/main.cpp", 30, "main")});
const Traceback kOdd = stack({frame("src/odd.cpp", 3, "operator;\nodd"), frame("src/main.cpp", 31, "main")});

Snapshot sample_snapshot() {
  return SnapshotBuilder()
      .leak_analysis(true)
      .add(0, 1536, kWidget, 2, Reachability::Direct)
      .add(3, 64, kWidget, 1, Reachability::Direct)
      .add(0, 4096, kWidget, 1, Reachability::Reachable)
      .add(0, 100, kOdd, 1, Reachability::Reachable)
      .add(0, 7, stack({}), 1, Reachability::Reachable)
      .add(0, 0, stack({frame("src/zero.cpp", 1, "zero")}), 4, Reachability::Reachable)
      .build();
}

std::string gunzip(const std::string& compressed) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);
  std::string result(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(result.data());
  stream.avail_out = static_cast<uInt>(result.size());
  const int status = inflate(&stream, Z_FINISH);
  result.resize(stream.total_out);
  inflateEnd(&stream);
  REQUIRE(status == Z_STREAM_END);
  return result;
}

}  // namespace

TEST_CASE("weighted stacks merge domains, keep reachabilities apart, and order root first", "[export]") {
  const Snapshot snapshot = sample_snapshot();
  const ExportStacks exported = weighted_stacks(snapshot);
  // Each distinct frame once, in identity order: (filename, lineno, function).
  REQUIRE(exported.frames.size() == 6);
  CHECK(exported.frames[0]->filename == "<unknown>");
  CHECK(exported.frames[1]->lineno == 30);  // src/main.cpp:30 before src/main.cpp:31
  CHECK(exported.frames[2]->lineno == 31);
  CHECK(exported.frames[5]->filename == "src/zero.cpp");
  const auto function_of = [&](ExportFrameId id) { return exported.frames[id]->function; };

  const std::vector<WeightedStack>& stacks = exported.stacks;
  REQUIRE(stacks.size() == 5);
  // Oldest frame first: "<unknown>" < "src/main.cpp" (main:30, then main:31) < "src/zero.cpp".
  CHECK(stacks[0].frames == std::vector<ExportFrameId>{0});
  CHECK(stacks[0].bytes == 7);
  CHECK(function_of(stacks[1].frames[0]) == "make_widget");
  CHECK(function_of(stacks[1].frames[1]) == "main");
  CHECK(stacks[1].reachability == Reachability::Reachable);
  CHECK(stacks[1].bytes == 4096);
  CHECK(stacks[2].frames == stacks[1].frames);
  CHECK(stacks[2].reachability == Reachability::Direct);
  CHECK(stacks[2].bytes == 1600);  // two domains added
  CHECK(stacks[2].blocks == 3);
  CHECK(exported.frames[stacks[3].frames[0]]->filename == "src/odd.cpp");
  CHECK(stacks[4].bytes == 0);
  CHECK(stacks[4].blocks == 4);
}

TEST_CASE("weighted stacks: tracebacks that differ only in addresses are one stack", "[export]") {
  Traceback first = stack({frame("a.c", 1, "f")});
  Traceback second = first;
  first.frames[0].address = 0x1000;
  second.frames[0].address = 0x2000;
  const Snapshot snapshot = SnapshotBuilder().add(0, 10, first).add(0, 20, second).build();
  REQUIRE(snapshot.tracebacks.size() == 2);
  const ExportStacks exported = weighted_stacks(snapshot);
  REQUIRE(exported.frames.size() == 1);
  CHECK(exported.frames[0]->address == 0x1000);  // the first occurrence's
  REQUIRE(exported.stacks.size() == 1);
  CHECK(exported.stacks[0].bytes == 30);

  Snapshot broken = snapshot;
  broken.traces[0].traceback = TracebackIndex{7};
  CHECK_THROWS_AS(weighted_stacks(broken), std::out_of_range);
}

TEST_CASE("collapsed stacks: one sanitised line per stack, root first, no weightless ones", "[export]") {
  const Snapshot snapshot = sample_snapshot();
  std::ostringstream out;
  CollapsedExporter(snapshot).render(out);
  CHECK(out.str() ==
        "<unknown> 7\n"
        "main (src/main.cpp:30);make_widget (src/widget.cpp:12) 5696\n"
        "main (src/main.cpp:31);operator: odd (src/odd.cpp:3) 100\n");
  CHECK(collapsed_frame_name(frame("app.py", 7)) == "app.py:7");
  CHECK(collapsed_frame_name(frame("/lib/libc.so.6", 0, "malloc")) == "malloc (/lib/libc.so.6)");
  CHECK(collapsed_frame_name(frame("bad\xff.c", 1, "f")) == "f (bad\xEF\xBF\xBD.c:1)");
}

TEST_CASE("speedscope: shared frames, samples root first, weights in bytes", "[export]") {
  const Snapshot snapshot = sample_snapshot();
  std::ostringstream out;
  SpeedscopeExporter(snapshot, "app.json").render(out);
  const auto document = nlohmann::json::parse(out.str());
  CHECK(document["$schema"] == "https://www.speedscope.app/file-format-schema.json");
  const auto& frames = document["shared"]["frames"];
  const auto& profile = document["profiles"][0];
  CHECK(profile["type"] == "sampled");
  CHECK(profile["unit"] == "bytes");
  CHECK(profile["endValue"] == 7 + 4096 + 1600 + 100);
  REQUIRE(profile["samples"].size() == 4);  // the 0-byte stack left out
  CHECK(profile["weights"] == nlohmann::json{7, 4096, 1600, 100});
  const auto& widget = profile["samples"][1];
  REQUIRE(widget.size() == 2);
  CHECK(frames[widget[0].get<std::size_t>()] == nlohmann::json{{"name", "main"}, {"file", "src/main.cpp"}, {"line", 30}});
  CHECK(frames[widget[1].get<std::size_t>()]["name"] == "make_widget");
  CHECK(profile["samples"][2] == widget);  // the same frames, shared
  CHECK(frames[profile["samples"][0][0].get<std::size_t>()] == nlohmann::json{{"name", "<unknown>"}, {"file", "<unknown>"}});
  CHECK(frames.size() == 5);
}

TEST_CASE("protobuf wire format: varints and length-delimited fields", "[export]") {
  ProtobufWriter writer;
  writer.varint_field(1, 150);  // the protobuf documentation's example: 08 96 01
  writer.varint_field(2, 0);    // a default value: left out
  writer.bytes_field(2, "testing");
  writer.packed_field(4, {3, 270, 86942});  // 22 06 03 8E 02 9E A7 05
  CHECK(writer.bytes() == std::string("\x08\x96\x01"
                                      "\x12\x07testing"
                                      "\x22\x06\x03\x8e\x02\x9e\xa7\x05",
                                      3 + 9 + 8));
  ProtobufWriter outer;
  outer.message_field(3, writer);
  CHECK(outer.bytes().substr(0, 2) == std::string("\x1a\x14", 2));
  CHECK(outer.bytes().substr(2) == writer.bytes());
}

TEST_CASE("gzip output inflates back; the pprof export is the gzip of its encoding", "[export]") {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += std::to_string(i * 7919 % 10007);
  const std::string compressed = gzip(data);
  CHECK(compressed.substr(0, 2) == "\x1f\x8b");
  CHECK(compressed.size() < data.size());
  CHECK(gunzip(compressed) == data);
  CHECK(gunzip(gzip("")).empty());

  const Snapshot snapshot = sample_snapshot();
  std::ostringstream out;
  PprofExporter(snapshot).render(out);
  const std::string encoded = encode_pprof(snapshot);
  CHECK(gunzip(out.str()) == encoded);
  // The first field is sample_type (1), a nested message; the string table (6) comes last and starts
  // with the empty string.
  CHECK(encoded[0] == '\x0a');
  CHECK(encoded.find(std::string("\x32\x00", 2)) != std::string::npos);
  CHECK(encoded.find("inuse_space") != std::string::npos);
  CHECK(encoded.find("reachability") != std::string::npos);
  CHECK(encoded.find(std::string("\x32\x05space", 7)) == std::string::npos);  // exact: no period

  Snapshot sampled = snapshot;
  sampled.sampling_rate = 4096;
  sampled.leak_analysis = false;
  const std::string sampled_encoded = encode_pprof(sampled);
  CHECK(sampled_encoded.find(std::string("\x32\x05space", 7)) != std::string::npos);  // period_type space/bytes
  CHECK(sampled_encoded.find(std::string("\x60\x80\x20", 3)) != std::string::npos);  // period (12) = 4096
  CHECK(sampled_encoded.find("reachability") == std::string::npos);  // no leak analysis: no label
}
