// A program that uses the installed heapsnap: traces its own allocations with the in-process API
// (heapsnap::heapsnap), analyses and saves the snapshots (heapsnap::analysis), and finds a reference
// cycle with the precise collector (heapsnap::gc), writing it into a snapshot file.
#include <heapsnap/gc/gc_collector.h>
#include <heapsnap/preload/api.h>
#include <heapsnap/snapshot/snapshot_json.h>
#include <heapsnap/snapshot/statistics.h>
#include <heapsnap/snapshot/text_forms.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
  if (!condition) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

struct Node : heapsnap::gc::Object {
  heapsnap::gc::Ref<Node> next;
  void traverse(heapsnap::gc::Visitor& visit) const noexcept override { visit(next); }
  void clear() noexcept override { next.reset(); }
};

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path directory = argc > 1 ? argv[1] : std::filesystem::temp_directory_path();

  // The in-process API.
  heapsnap::start(4);
  const heapsnap::Snapshot before = heapsnap::take_snapshot();
  void* block = std::malloc(4321);
  const auto traced = heapsnap::get_traced_memory();
  const heapsnap::Snapshot after = heapsnap::take_snapshot();
  expect(heapsnap::get_object_traceback(block).has_value(), "get_object_traceback finds the block");
  std::free(block);
  expect(traced.current >= 4321, "traced memory counts the block");

  // The analysis API on those snapshots.
  const auto top = heapsnap::statistics(after, heapsnap::GroupBy::Lineno);
  expect(!top.empty() && top.front().size >= 4321, "statistics puts the 4321-byte block first");
  const auto diff = heapsnap::compare_to(after, before, heapsnap::GroupBy::Lineno);
  expect(!diff.empty() && diff.front().size_diff >= 4321, "compare_to sees it grow");
  const std::string line = top.empty() ? "" : heapsnap::to_string(top.front());
  expect(line.find("size=4321 B") != std::string::npos, "a Statistic's text form");
  const auto kept = heapsnap::filter_traces(after, {heapsnap::Filter{false, "*nothing-matches*", {}, false, {}}});
  expect(kept.traces.size() == after.traces.size(), "an exclusive filter that matches nothing keeps every trace");

  // The precise collector, its cycle saved in a snapshot file and read back.
  heapsnap::Snapshot with_cycle = after;
  {
    heapsnap::gc::Collector gc;
    gc.record_cycles(true, [&](const heapsnap::gc::Object&) { return heapsnap::TracebackIndex{0}; });
    auto a = gc.make<Node>();
    auto b = gc.make<Node>();
    a->next = b;
    b->next = a;
    a.reset();
    b.reset();
    expect(gc.collect() == 2, "gc.collect() frees the 2-cycle");
    const auto cycles = gc.last_cycles();
    expect(cycles.size() == 1 && cycles.front().cycle.members.size() == 2, "gc reports the cycle");
    if (!cycles.empty()) with_cycle.cycles.push_back(cycles.front().cycle);
  }
  expect(!with_cycle.tracebacks.empty(), "the snapshot has a traceback for the cycle's members");
  const auto path = directory / "consumer-snapshot.json";
  heapsnap::save_snapshot(with_cycle, path);
  const heapsnap::Snapshot loaded = heapsnap::load_snapshot(path);
  std::filesystem::remove(path);
  expect(heapsnap::statistics(loaded, heapsnap::GroupBy::Traceback) ==
             heapsnap::statistics(with_cycle, heapsnap::GroupBy::Traceback),
         "a saved snapshot loads back with the same statistics");
  expect(loaded.cycles.size() == 1 && loaded.cycles.front().edges.size() == 2, "and with the gc's cycle");

  std::printf("traced=%zu traces=%zu top=\"%s\" failures=%d\n", traced.current, after.traces.size(), line.c_str(),
              failures);
  return failures == 0 ? 0 : 1;
}
