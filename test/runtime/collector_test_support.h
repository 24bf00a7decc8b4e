#pragma once
// What the collector tests share: tracing for one test, the reachability heapsnap gave a block, and a
// leak analysis that dead stack slots cannot sway.

#include <catch2/catch.hpp>

#include <set>

#include "preload/api.h"
#include "preload/leak_api.h"
#include "test/runtime/tracing_fixture.h"

namespace collector_test {

using heapsnap::test::escape;

// The collector's tests record 6 frames: enough to tell their call sites apart.
struct Tracing : heapsnap::test::Tracing {
  Tracing() : heapsnap::test::Tracing(6) {}
};

// The reachability heapsnap gives the block at `p` (all blocks of its trace share it), found through
// the snapshot by traceback: the block's own traceback is unique per test call site.
inline heapsnap::Reachability reachability_of(const heapsnap::Snapshot& snapshot, const void* p) {
  const auto traceback = heapsnap::get_object_traceback(p);
  REQUIRE(traceback.has_value());
  std::set<heapsnap::Reachability> seen;
  for (const auto& trace : snapshot.traces)
    if (snapshot.traceback_of(trace) == *traceback) seen.insert(trace.reachability);
  REQUIRE(seen.size() == 1);
  return *seen.begin();
}

// A conservative scan counts stale copies of pointers left in dead stack slots. Each test clears the
// stack below its frame before it asks, so what it asserts does not depend on what ran before.
[[gnu::noinline]] inline void scrub_stack() {
  volatile char dead_frames[64 * 1024];
  for (std::size_t i = 0; i < sizeof dead_frames; ++i) dead_frames[i] = 0;
}

// Inlined: the scrub must run from the test's own frame, below which the dead slots lie.
[[gnu::always_inline]] inline heapsnap::Snapshot collect_with_clean_stack(const heapsnap::CollectOptions& options = {}) {
  scrub_stack();
  return heapsnap::collect_leaks(options);
}

// The verdict on the block at `disguised ^ key`. The real address is made only after the analysis, in
// a frame of its own: computed earlier, the compiler may keep it in a register or a stack slot across
// the analysis, and the block would be reachable through the test itself.
[[gnu::noinline]] inline heapsnap::Reachability verdict_after_analysis(std::uintptr_t disguised, std::uintptr_t key) {
  const heapsnap::Snapshot snapshot = heapsnap::collect_leaks();
  return reachability_of(snapshot, reinterpret_cast<const void*>(disguised ^ key));
}
[[gnu::always_inline]] inline heapsnap::Reachability verdict_on_disguised(std::uintptr_t disguised, std::uintptr_t key) {
  scrub_stack();
  return verdict_after_analysis(disguised, key);
}

}  // namespace collector_test
