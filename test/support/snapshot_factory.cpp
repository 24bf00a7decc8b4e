#include "test/support/snapshot_factory.h"

#include <algorithm>
#include <tuple>

#include "snapshot/snapshot_json.h"

namespace heapsnap::test {

Frame frame(std::string filename, std::uint32_t lineno, std::string function) {
  Frame result;
  result.filename = std::move(filename);
  result.lineno = lineno;
  result.function = std::move(function);
  return result;
}

Traceback stack(std::initializer_list<Frame> frames, std::uint32_t total_nframe) {
  Traceback traceback;
  traceback.frames = frames;
  traceback.total_nframe = std::max<std::uint32_t>(total_nframe, static_cast<std::uint32_t>(frames.size()));
  return traceback;
}

namespace {

// Exact equality: Traceback's operator== ignores module, address and total_nframe.
bool same_in_every_field(const Traceback& a, const Traceback& b) {
  const auto fields = [](const Frame& f) { return std::tie(f.filename, f.lineno, f.function, f.module, f.address); };
  return a.total_nframe == b.total_nframe &&
         std::equal(a.frames.begin(), a.frames.end(), b.frames.begin(), b.frames.end(),
                    [&](const Frame& x, const Frame& y) { return fields(x) == fields(y); });
}

}  // namespace

SnapshotBuilder& SnapshotBuilder::traceback_limit(std::uint32_t limit) {
  snapshot_.traceback_limit = limit;
  return *this;
}

SnapshotBuilder& SnapshotBuilder::leak_analysis(bool analysed) {
  snapshot_.leak_analysis = analysed;
  return *this;
}

SnapshotBuilder& SnapshotBuilder::add(DomainId domain, std::uint64_t size, const Traceback& traceback,
                                      std::uint64_t count, Reachability reachability) {
  auto& tracebacks = snapshot_.tracebacks;
  auto found = std::find_if(tracebacks.begin(), tracebacks.end(),
                            [&](const Traceback& known) { return same_in_every_field(known, traceback); });
  if (found == tracebacks.end()) found = tracebacks.insert(tracebacks.end(), traceback);
  Trace trace;
  trace.domain = domain;
  trace.traceback = TracebackIndex{static_cast<std::uint32_t>(found - tracebacks.begin())};
  trace.size = size;
  trace.count = count;
  trace.reachability = reachability;
  snapshot_.traces.push_back(trace);
  snapshot_.traced_current += size;
  snapshot_.traced_peak = std::max(snapshot_.traced_peak, snapshot_.traced_current);
  return *this;
}

std::pair<Snapshot, Snapshot> create_snapshots() {
  // raw_traces in CPython list frames most recent first, as heapsnap does; total_nframe 3 or 1.
  const Traceback a2_b4 = stack({frame("a.py", 2), frame("b.py", 4)}, 3);
  const Traceback a5_b4 = stack({frame("a.py", 5), frame("b.py", 4)}, 3);
  const Traceback b1 = stack({frame("b.py", 1)}, 1);
  const Traceback unknown = stack({frame("<unknown>", 0)}, 1);
  const Traceback c578 = stack({frame("c.py", 578)}, 1);

  SnapshotBuilder first;
  first.traceback_limit(2).add(0, 10, a2_b4).add(0, 10, a2_b4).add(0, 10, a2_b4);
  first.add(1, 2, a5_b4).add(2, 66, b1).add(3, 7, unknown);

  SnapshotBuilder second;
  second.traceback_limit(2).add(0, 10, a2_b4).add(0, 10, a2_b4).add(0, 10, a2_b4);
  second.add(2, 2, a5_b4).add(2, 5000, a5_b4).add(4, 400, c578);
  return {first.build(), second.build()};
}

Snapshot full_snapshot() {
  Frame allocate = frame("/src/widget.cpp", 12, "Widget::make(int)");
  allocate.module = "/usr/bin/demo";
  allocate.address = 0x401234;
  Frame caller = frame("/src/main.cpp", 30, "main");
  caller.module = "/usr/bin/demo";
  caller.address = 0x401999;
  Frame same_line_other_call = caller;  // equal identity, other address: must survive the round trip
  same_line_other_call.address = 0x4019a0;
  Frame no_line_info = frame("/usr/lib/libfoo.so.1", 0, "foo_alloc");
  no_line_info.module = "/usr/lib/libfoo.so.1";
  no_line_info.address = 0xffffffffffffffffULL;
  no_line_info.build_id = "0123456789abcdef0123456789abcdef01234567";  // no module has it
  no_line_info.offset = 0x27249;
  Frame from_python = frame("script.py", 7);

  SnapshotBuilder builder;
  builder.traceback_limit(16).leak_analysis(true);
  builder.add(0, 4096, stack({allocate, caller}, 7), 2, Reachability::Direct);
  builder.add(0, 48, stack({allocate, same_line_other_call}, 2), 1, Reachability::Indirect);
  builder.add(7, 100, stack({no_line_info}), 3, Reachability::Cycle);
  builder.add(0, 0, stack({from_python}), 1, Reachability::Reachable);
  builder.add(0, 18446744073709551615ULL, stack({}), 18446744073709551615ULL, Reachability::NotAnalyzed);
  Snapshot snapshot = builder.build();
  snapshot.traced_current = 123456789;
  snapshot.traced_peak = 987654321;
  snapshot.allocation_calls = 4242;
  snapshot.sampling_rate = 524288;
  snapshot.process.pid = 4242;
  snapshot.process.argv = {"/usr/bin/demo", "--flag", "ünïcode arg", "quote\"back\\slash\ttab"};
  snapshot.process.executable = "/usr/bin/demo";
  snapshot.process.reason = "exit";
  snapshot.process.unix_time_ms = 1767225600123;
  // A leaked 2-ring (two pointers each way, as a std::shared_ptr holds), a self-cycle whose field is
  // outside the block (offset unknown), and a reachable 3-ring of a block whose traceback is empty.
  Cycle pair;
  pair.members = {{0x7f0000001000, 48, TracebackIndex{0}}, {0x7f0000002000, 48, TracebackIndex{1}}};
  pair.edges = {{0, 1, 16}, {0, 1, 24}, {1, 0, 16}, {1, 0, 24}};
  pair.bytes = 96;
  Cycle self;
  self.members = {{0xffffffffffffffffULL, 100, TracebackIndex{2}}};
  self.edges = {{0, 0, kUnknownEdgeOffset}};
  self.bytes = 100;
  Cycle ring;
  ring.members = {{0x10, 1, TracebackIndex{4}}, {0x20, 2, TracebackIndex{4}}, {0x30, 0, TracebackIndex{3}}};
  ring.edges = {{0, 1, 0}, {1, 2, 18446744073709551614ULL}, {2, 0, 8}};
  ring.bytes = 3;
  ring.reachable = true;
  snapshot.cycles = {pair, self, ring};
  return snapshot;
}

const Traceback kFirstNode = stack({frame("src/node.cpp", 31, "make_node"), frame("src/node.cpp", 37, "make_ring")});
const Traceback kOtherNode = stack({frame("src/node.cpp", 31, "make_node"), frame("src/node.cpp", 40, "make_ring")});
const Traceback kPlainLeak = stack({frame("src/plain.cpp", 9, "leak_plain")});

void add_ring(Snapshot& snapshot, std::uint64_t address, std::initializer_list<Traceback> sites, bool reachable) {
  Cycle cycle;
  for (const Traceback& site : sites) {
    const auto found = std::find(snapshot.tracebacks.begin(), snapshot.tracebacks.end(), site);
    cycle.members.push_back({address, 48, TracebackIndex{static_cast<std::uint32_t>(found - snapshot.tracebacks.begin())}});
    address += 48;
    cycle.bytes += 48;
  }
  const auto n = static_cast<std::uint32_t>(cycle.members.size());
  for (std::uint32_t k = 0; k < n; ++k) {
    cycle.edges.push_back({k, (k + 1) % n, 16});
    cycle.edges.push_back({k, (k + 1) % n, 24});
  }
  cycle.reachable = reachable;
  snapshot.cycles.push_back(std::move(cycle));
}

Snapshot snapshot_with_cycles(const CycleCounts& counts) {
  const auto first = static_cast<std::uint64_t>(counts.pairs + counts.triangles + counts.self_cycles);
  const auto other = static_cast<std::uint64_t>(counts.pairs + 2 * counts.triangles);
  Snapshot snapshot = SnapshotBuilder()
                          .leak_analysis(true)
                          .add(0, 48 * first, kFirstNode, first, Reachability::Cycle)
                          .add(0, 48 * other, kOtherNode, other, Reachability::Cycle)
                          .add(0, 128, kPlainLeak, 2, Reachability::Direct)
                          .add(0, 192, kFirstNode, 4, Reachability::Reachable)
                          .build();
  std::uint64_t address = 0x10000;
  const auto add = [&](std::initializer_list<Traceback> sites, bool reachable = false) {
    add_ring(snapshot, address, sites, reachable);
    address += 0x1000;
  };
  for (int i = 0; i < counts.pairs; ++i) add({kFirstNode, kOtherNode});
  for (int i = 0; i < counts.triangles; ++i) add({kFirstNode, kOtherNode, kOtherNode});
  for (int i = 0; i < counts.self_cycles; ++i) add({kFirstNode});
  add({kFirstNode, kFirstNode, kFirstNode, kFirstNode}, true);
  return snapshot;
}

}  // namespace heapsnap::test
