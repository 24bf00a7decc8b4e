#pragma once
// What the collector tests share: tracing for one test, the reachability heapsnap gave a block, and a
// leak analysis that dead stack slots cannot sway.

#include <catch2/catch.hpp>

#include <set>
#include <thread>

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
// stack below its frame before it asks, so what it asserts does not depend on what ran before. Inlined
// into the test, it zeroes the 64 KiB below the test's stack pointer itself: a function of its own
// would leave its return address, saved registers and alignment padding unwritten, right where the
// last callee's frame began (clang's code kept a leaked node's address there). A function that calls
// others keeps nothing below its stack pointer (the red zone is for leaf functions).
#if !defined(__x86_64__)
[[gnu::noinline]] inline void scrub_dead_frames() {
  volatile char dead_frames[64 * 1024];
  for (std::size_t i = 0; i < sizeof dead_frames; ++i) dead_frames[i] = 0;
}
#endif
[[gnu::always_inline]] inline void scrub_stack() {
#if defined(__x86_64__)
  constexpr unsigned long kBytes = 64 * 1024;
  void* destination = nullptr;
  unsigned long count = kBytes;
  asm volatile("mov %%rsp, %0\n\tsub %1, %0" : "=&D"(destination) : "r"(kBytes));
  asm volatile("rep stosb" : "+D"(destination), "+c"(count) : "a"(0) : "memory");
#else
  scrub_dead_frames();
#endif
}

// Runs `make` on a thread of its own, whose heap hands out blocks at addresses the test's thread has
// never held. A conservative scan of the test's thread would count a block as reachable if its address
// were that of a block freed earlier whose address an uninitialized slot of a live frame (Catch's)
// still holds: clang's frame layout did this to two tests, each run alone.
template <typename Make>
void on_fresh_thread(Make make) {
  std::thread(make).join();
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
