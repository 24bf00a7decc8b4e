// The tracemalloc-style API, in a process whose every allocation goes through heapsnap: this test
// executable links libheapsnap_preload.so ahead of libc, as a program using the API would.

#include <catch2/catch.hpp>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "preload/api.h"
#include "preload/memory_resource.h"
#include "test/runtime/tracing_fixture.h"

namespace {

using heapsnap::test::escape;
using heapsnap::test::Tracing;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Bytes and blocks the snapshot attributes to this file at `line` as the most recent frame.
std::pair<std::uint64_t, std::uint64_t> traced_at(const heapsnap::Snapshot& snapshot, std::uint32_t line) {
  std::uint64_t size = 0;
  std::uint64_t count = 0;
  for (const auto& trace : snapshot.traces) {
    const auto& traceback = snapshot.traceback_of(trace);
    if (!traceback.frames.empty() && traceback.frames[0].lineno == line &&
        ends_with(traceback.frames[0].filename, "api_test.cpp")) {
      size += trace.size;
      count += trace.count;
    }
  }
  return {size, count};
}

}  // namespace

TEST_CASE("start, stop, is_tracing and the traceback limit") {
  heapsnap::stop();
  CHECK_FALSE(heapsnap::is_tracing());
  CHECK(heapsnap::get_traced_memory().current == 0);
  heapsnap::start(5);
  CHECK(heapsnap::is_tracing());
  CHECK(heapsnap::get_traceback_limit() == 5);
  heapsnap::start(9);  // already tracing: the depth stays
  CHECK(heapsnap::get_traceback_limit() == 5);
  heapsnap::stop();
  CHECK_FALSE(heapsnap::is_tracing());
  CHECK_THROWS_AS(heapsnap::start(0), std::invalid_argument);
  CHECK_THROWS_AS(heapsnap::start(129), std::invalid_argument);
  CHECK_THROWS_AS(heapsnap::take_snapshot(), std::runtime_error);
}

TEST_CASE("traced memory counts requested bytes, and the peak follows") {
  Tracing tracing;
  const auto before = heapsnap::get_traced_memory();
  void* a = std::malloc(1000);
  void* b = std::malloc(3000);
  escape(a);
  escape(b);
  const auto during = heapsnap::get_traced_memory();
  std::free(b);
  const auto after_free = heapsnap::get_traced_memory();
  heapsnap::reset_peak();
  const auto after_reset = heapsnap::get_traced_memory();
  std::free(a);
  CHECK(during.current - before.current == 4000);
  CHECK(during.peak >= during.current);
  CHECK(during.current - after_free.current == 3000);
  CHECK(after_free.peak == during.peak);
  CHECK(after_reset.peak == after_reset.current);
  CHECK(heapsnap::get_tracemalloc_memory() > 0);
}

TEST_CASE("snapshots and get_object_traceback name the allocating line") {
  Tracing tracing;
  std::vector<void*> blocks(7);
  const std::uint32_t line = __LINE__ + 1;
  for (int i = 0; i < 7; ++i) blocks[static_cast<std::size_t>(i)] = std::malloc(123);
  const heapsnap::Snapshot snapshot = heapsnap::take_snapshot();
  CHECK(traced_at(snapshot, line) == std::pair<std::uint64_t, std::uint64_t>{7 * 123, 7});
  CHECK(snapshot.traceback_limit == 8);
  CHECK(snapshot.process.pid == getpid());
  CHECK(snapshot.process.reason == "api");

  const auto traceback = heapsnap::get_object_traceback(blocks[3]);
  REQUIRE(traceback.has_value());
  REQUIRE_FALSE(traceback->frames.empty());
  CHECK(traceback->frames[0].lineno == line);
  CHECK(ends_with(traceback->frames[0].filename, "api_test.cpp"));
  CHECK(traceback->frames.size() <= 8);
  CHECK(traceback->total_nframe >= traceback->frames.size());
  CHECK(heapsnap::get_object_traceback(static_cast<char*>(blocks[3]) + 50).has_value());  // interior

  for (void* p : blocks) std::free(p);
  CHECK(traced_at(heapsnap::take_snapshot(), line).second == 0);
  CHECK_FALSE(heapsnap::get_object_traceback(blocks[3]).has_value());
}

TEST_CASE("two calls on one line are one traceback and one trace") {
  Tracing tracing;
  static void* blocks[2];  // escapes: the calls are kept
  const std::uint32_t line = __LINE__ + 1;
  blocks[0] = std::malloc(40), blocks[1] = std::malloc(60);  // two return addresses
  const heapsnap::Snapshot snapshot = heapsnap::take_snapshot();
  const auto on_line = [&](const heapsnap::Traceback& traceback) {
    return !traceback.frames.empty() && traceback.frames[0].lineno == line &&
           ends_with(traceback.frames[0].filename, "api_test.cpp");
  };
  CHECK(std::count_if(snapshot.tracebacks.begin(), snapshot.tracebacks.end(), on_line) == 1);
  CHECK(std::count_if(snapshot.traces.begin(), snapshot.traces.end(),
                      [&](const heapsnap::Trace& trace) { return on_line(snapshot.traceback_of(trace)); }) == 1);
  CHECK(traced_at(snapshot, line) == std::pair<std::uint64_t, std::uint64_t>{100, 2});
  for (void* p : blocks) std::free(p);
}

TEST_CASE("every C and C++ entry point is traced at its caller") {
  Tracing tracing;
  const std::uint32_t first = __LINE__ + 1;
  void* c1 = std::calloc(10, 10);
  void* c2 = std::realloc(nullptr, 77);
  void* c3 = nullptr;
  REQUIRE(posix_memalign(&c3, 64, 100) == 0);
  void* c4 = aligned_alloc(128, 256);
  void* c5 = memalign(32, 40);
  int* c6 = new int[25];
  auto* c7 = new (std::align_val_t{256}) double[4];
  auto* c8 = new (std::nothrow) char[9];
  const std::uint32_t last = __LINE__ - 1;
  std::vector<void*> all{c1, c2, c3, c4, c5, c6, c7, c8};
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto traceback = heapsnap::get_object_traceback(all[i]);
    REQUIRE(traceback.has_value());
    INFO("entry point #" << i);
    CHECK(traceback->frames[0].lineno >= first);
    CHECK(traceback->frames[0].lineno <= last);
  }
  CHECK(malloc_usable_size(c2) >= 77);
  std::free(c1);
  std::free(c2);
  std::free(c3);
  std::free(c4);
  std::free(c5);
  delete[] c6;
  operator delete[](c7, std::align_val_t{256});
  delete[] c8;
}

TEST_CASE("realloc moves the block's attribution to the realloc call") {
  Tracing tracing;
  void* p = std::malloc(16);
  const std::uint32_t line = __LINE__ + 1;
  p = std::realloc(p, 5000);
  const auto traceback = heapsnap::get_object_traceback(p);
  REQUIRE(traceback.has_value());
  CHECK(traceback->frames[0].lineno == line);
  std::free(p);
}

TEST_CASE("clear_traces and stop forget existing traces") {
  Tracing tracing;
  void* p = std::malloc(64);
  REQUIRE(heapsnap::get_object_traceback(p).has_value());
  heapsnap::clear_traces();
  CHECK_FALSE(heapsnap::get_object_traceback(p).has_value());
  CHECK(heapsnap::get_traced_memory().current == 0);
  CHECK(heapsnap::is_tracing());
  void* q = std::malloc(64);
  CHECK(heapsnap::get_object_traceback(q).has_value());
  heapsnap::stop();
  CHECK_FALSE(heapsnap::get_object_traceback(q).has_value());
  std::free(p);
  std::free(q);
}

TEST_CASE("untraced allocations stay out of snapshots") {
  heapsnap::stop();
  void* untraced = std::malloc(555);
  heapsnap::start(4);
  CHECK_FALSE(heapsnap::get_object_traceback(untraced).has_value());
  const auto snapshot = heapsnap::take_snapshot();
  for (const auto& trace : snapshot.traces) CHECK(trace.traceback != heapsnap::TracebackIndex{0xffffffff});
  std::free(untraced);
  CHECK(heapsnap::get_traced_memory().current < 1u << 20);  // freeing an untraced block changes nothing
  heapsnap::stop();
}

TEST_CASE("threads allocating and freeing across each other while snapshots are taken") {
  Tracing tracing;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<std::vector<void*>> handoff(kThreads);
  static std::uint32_t worker_line = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &handoff] {
      std::vector<void*> mine;
      mine.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        worker_line = __LINE__ + 1;
        mine.push_back(std::malloc(static_cast<std::size_t>(i % 300 + 1)));
        if (i % 3 == 0) {
          std::free(mine.back());
          mine.pop_back();
        }
      }
      handoff[static_cast<std::size_t>(t)] = std::move(mine);
    });
  }
  std::size_t snapshots_taken = 0;
  std::thread snapshots([&] {
    do snapshots_taken += heapsnap::take_snapshot().traces.empty() ? 0 : 1;  // at least one, however fast the workers
    while (!stop);
  });
  for (auto& thread : threads) thread.join();
  stop = true;
  snapshots.join();

  std::uint64_t live_blocks = 0;
  for (const auto& blocks : handoff) live_blocks += blocks.size();
  CHECK(traced_at(heapsnap::take_snapshot(), worker_line).second == live_blocks);

  std::vector<std::thread> freers;  // every block is freed by a thread other than its allocator
  for (int t = 0; t < kThreads; ++t)
    freers.emplace_back([t, &handoff] {
      for (void* p : handoff[static_cast<std::size_t>((t + 1) % kThreads)]) std::free(p);
    });
  for (auto& thread : freers) thread.join();
  CHECK(traced_at(heapsnap::take_snapshot(), worker_line).second == 0);
  CHECK(snapshots_taken > 0);
}

TEST_CASE("a forked child keeps allocating and freeing with tracing on") {
  Tracing tracing;
  std::vector<std::string> strings(100, std::string(100, 'x'));
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop) delete new std::string(200, 'y');
  });
  const pid_t child = fork();
  if (child == 0) {
    std::vector<std::string> more;
    for (int i = 0; i < 10000; ++i) more.emplace_back(static_cast<std::size_t>(i % 200 + 20), 'z');
    const auto snapshot = heapsnap::take_snapshot();
    _exit(snapshot.traces.empty() || strings.size() != 100 ? 1 : 0);
  }
  stop = true;
  busy.join();
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// Run by the next test in a process of its own, started with HEAPSNAP_FOLLOW_CHILDREN=0.
TEST_CASE("a child that is not followed: tracing is off, and starting it again drops the parent's traces", "[.not_followed_child]") {
  Tracing tracing;
  void* parents = std::malloc(48);
  REQUIRE(heapsnap::get_object_traceback(parents).has_value());
  const pid_t child = fork();
  if (child == 0) {
    const bool tracing_off = !heapsnap::is_tracing();
    heapsnap::start(4);
    const bool parents_dropped = !heapsnap::get_object_traceback(parents).has_value();
    void* own = std::malloc(48);
    const bool own_traced = heapsnap::get_object_traceback(own).has_value();
    _exit(tracing_off && parents_dropped && own_traced && heapsnap::get_traced_memory().current == 48 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(heapsnap::get_object_traceback(parents).has_value());  // the parent's own traces are untouched
  std::free(parents);
}

TEST_CASE("HEAPSNAP_FOLLOW_CHILDREN=0: a forked child stops tracing and drops inherited traces when it starts again") {
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(length > 0);
  self[length] = '\0';
  const std::string command = "HEAPSNAP_FOLLOW_CHILDREN=0 '" + std::string(self) + "' '[.not_followed_child]' >/dev/null 2>&1";
  CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("the pmr resource allocates traced, aligned blocks attributed to the container's user") {
  Tracing tracing;
  std::pmr::memory_resource* resource = heapsnap::arena_resource();
  CHECK(resource->is_equal(*heapsnap::arena_resource()));
  void* aligned = resource->allocate(100, 256);
  CHECK(reinterpret_cast<std::uintptr_t>(aligned) % 256 == 0);
  REQUIRE(heapsnap::get_object_traceback(aligned).has_value());
  const auto before = heapsnap::get_traced_memory().current;
  resource->deallocate(aligned, 100, 256);
  CHECK(before - heapsnap::get_traced_memory().current == 100);

  std::pmr::vector<int> numbers(resource);
  const std::uint32_t line = __LINE__ + 1;
  numbers.resize(1000);
  const auto traceback = heapsnap::get_object_traceback(numbers.data());
  REQUIRE(traceback.has_value());
  bool names_this_line = false;
  for (const auto& frame : traceback->frames) names_this_line |= frame.lineno == line && ends_with(frame.filename, "api_test.cpp");
  CHECK(names_this_line);
}

TEST_CASE("memory outside the arena is traced under its own domain") {
  heapsnap::stop();
  CHECK(heapsnap::track(7, 0x10000, 4096) == -2);  // not tracing
  Tracing tracing;
  const auto before = heapsnap::get_traced_memory().current;
  const std::uint32_t line = __LINE__ + 1;
  REQUIRE(heapsnap::track(7, 0x10000, 4096) == 0);
  REQUIRE(heapsnap::track(7, 0x20000, 1000) == 0);
  REQUIRE(heapsnap::track(9, 0x10000, 50) == 0);  // same address, other domain: a separate trace
  CHECK(heapsnap::get_traced_memory().current - before == 5146);
  REQUIRE(heapsnap::track(7, 0x20000, 2000) == 0);  // tracked again: replaced, not added
  CHECK(heapsnap::get_traced_memory().current - before == 6146);

  {  // scoped: the snapshot and the map are traced too, and must be gone before the next measurement
  const auto snapshot = heapsnap::take_snapshot();
  std::map<heapsnap::DomainId, std::pair<std::uint64_t, std::uint64_t>> by_domain;
  for (const auto& trace : snapshot.traces) {
    if (trace.domain == heapsnap::kDefaultDomain) continue;
    by_domain[trace.domain].first += trace.size;
    by_domain[trace.domain].second += trace.count;
    CHECK(snapshot.traceback_of(trace).frames[0].lineno >= line);
    CHECK(snapshot.traceback_of(trace).frames[0].lineno <= line + 5);
  }
  CHECK(by_domain[7] == std::pair<std::uint64_t, std::uint64_t>{6096, 2});
  CHECK(by_domain[9] == std::pair<std::uint64_t, std::uint64_t>{50, 1});
  }

  CHECK(heapsnap::untrack(7, 0x10000) == 0);
  CHECK(heapsnap::untrack(7, 0x10000) == 0);  // untracking twice is harmless
  CHECK(heapsnap::get_traced_memory().current - before == 2050);
  heapsnap::clear_traces();
  for (const auto& trace : heapsnap::take_snapshot().traces) CHECK(trace.domain == heapsnap::kDefaultDomain);
}

TEST_CASE("sampling estimates sizes and counts without bias, and 0 goes back to exact tracing") {
  Tracing tracing;
  constexpr int kBlocks = 40000;
  constexpr std::size_t kSize = 100;
  for (std::uint64_t rate : {std::uint64_t{512}, std::uint64_t{4096}}) {
    heapsnap::set_sampling_rate(rate);
    heapsnap::clear_traces();
    std::vector<void*> blocks(kBlocks);
    const std::uint32_t line = __LINE__ + 1;
    for (auto& block : blocks) block = std::malloc(kSize);
    const auto snapshot = heapsnap::take_snapshot();
    const auto estimate = traced_at(snapshot, line);
    const auto traced = heapsnap::get_traced_memory().current;
    for (void* block : blocks) std::free(block);
    INFO("rate " << rate << ": estimated " << estimate.first << " bytes in " << estimate.second << " blocks");
    CHECK(snapshot.sampling_rate == rate);
    // ~390 samples at 4096 (relative error ~5%), ~7800 at 512: 15% is over 3 standard deviations.
    CHECK(estimate.first > kBlocks * kSize * 85 / 100);
    CHECK(estimate.first < kBlocks * kSize * 115 / 100);
    CHECK(estimate.second > kBlocks * 85 / 100);
    CHECK(estimate.second < kBlocks * 115 / 100);
    CHECK(traced > kBlocks * kSize * 85 / 100);
  }
  heapsnap::set_sampling_rate(0);
  heapsnap::clear_traces();
  std::vector<void*> blocks(1000);
  const std::uint32_t line = __LINE__ + 1;
  for (auto& block : blocks) block = std::malloc(kSize);
  CHECK(traced_at(heapsnap::take_snapshot(), line) == std::pair<std::uint64_t, std::uint64_t>{1000 * kSize, 1000});
  for (void* block : blocks) std::free(block);
}

TEST_CASE("the per-site totals give the same snapshot as a walk of the heap, threads and cross-thread frees included") {
  Tracing tracing;
  constexpr int kThreads = 4;
  constexpr int kBlocks = 20000;
  std::vector<std::vector<void*>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kBlocks; ++i) {
        made[static_cast<std::size_t>(t)].push_back(std::malloc(static_cast<std::size_t>(16 + (i % 7) * 24 + t)));
        if (i % 3 == 0) made[static_cast<std::size_t>(t)].push_back(new char[40 + t]);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  threads.clear();
  // Each thread frees every other block of its neighbour's: frees on threads that did not allocate.
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      auto& blocks = made[static_cast<std::size_t>((t + 1) % kThreads)];
      for (std::size_t i = 0; i < blocks.size(); i += 2) {
        std::free(blocks[i]);  // new char[] blocks too: our allocator serves both
        blocks[i] = nullptr;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const auto totals = [](const heapsnap::Snapshot& snapshot) {
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_stack;
    for (const auto& trace : snapshot.traces) {
      std::string key;
      for (const auto& frame : snapshot.traceback_of(trace).frames) key += frame.filename + ":" + std::to_string(frame.lineno) + ";";
      by_stack[key].first += trace.size;
      by_stack[key].second += trace.count;
    }
    return by_stack;
  };
  // Both snapshots before any analysis: what the analysis allocates would be in the second one.
  const heapsnap::Snapshot walk = heapsnap::take_snapshot();
  const heapsnap::Snapshot sums = heapsnap::take_snapshot_from_site_totals();
  const auto walked = totals(walk);
  CHECK(walked.size() > 2);
  CHECK(totals(sums) == walked);

  for (auto& blocks : made)
    for (void* p : blocks) std::free(p);
  const heapsnap::Snapshot sums_after = heapsnap::take_snapshot_from_site_totals();
  const heapsnap::Snapshot walk_after = heapsnap::take_snapshot();
  CHECK(totals(sums_after) == totals(walk_after));
  heapsnap::clear_traces();
  CHECK(heapsnap::take_snapshot_from_site_totals().traces.empty());
}
