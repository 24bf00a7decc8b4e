// The traced-memory counters (runtime/traced_memory.h): current exact, the peak exact with one
// thread (checked against a running maximum over random sequences), and within its documented bound
// with several.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "runtime/site_counters.h"
#include "runtime/traced_memory.h"

namespace traced = heapsnap::traced_memory;

namespace {

void reset_all() {
  heapsnap::site_counters::reset();
  traced::reset();
}

// Live blocks traced and untraced at random, as a program's heap: `current` is what the counters
// must say. Sizes run from a few bytes to past a headroom chunk.
struct RandomHeap {
  explicit RandomHeap(unsigned seed) : random(seed) {}

  // One allocation (mostly, while `growing`) or one free.
  void step(bool growing) {
    if (live.empty() || random() % 100 < (growing ? 70u : 30u)) {
      const std::int64_t size = static_cast<std::int64_t>(random() % (random() % 10 == 0 ? 200000 : 700)) + 1;
      live.push_back(size);
      current += size;
      traced::add(size);
    } else {
      const std::size_t which = random() % live.size();
      current -= live[which];
      traced::add(-live[which]);
      live[which] = live.back();
      live.pop_back();
    }
  }

  std::mt19937_64 random;
  std::vector<std::int64_t> live;
  std::int64_t current = 0;
};

}  // namespace

TEST_CASE("one thread: current and peak are exact through headroom, pool and peaks") {
  for (const unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    reset_all();
    RandomHeap heap(seed);
    std::int64_t peak = 0;
    for (int step = 0; step < 20000; ++step) {
      heap.step((step / 2000) % 2 == 0);  // phases of growth and of shrinking
      const std::int64_t current = heap.current;
      peak = std::max(peak, current);
      if (step % 997 == 0 && step > 0) {
        traced::reset_peak();  // the peak starts over from the current total
        peak = current;
      }
      const traced::Totals totals = traced::totals();
      REQUIRE(totals.current == current);
      REQUIRE(totals.peak == peak);
    }
  }
  reset_all();
}

TEST_CASE("several threads: current exact, the peak never below the true one and within the bound above it") {
  constexpr int kThreads = 6;
  constexpr std::int64_t kHeld = 3 << 20;  // each thread holds this much at the common high point
  for (int round = 0; round < 3; ++round) {
    reset_all();
    std::atomic<int> holding{0};
    std::atomic<bool> release{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937_64 random(static_cast<unsigned>(t + 10 * round));
        // Churn first, which fills this thread's headroom, then climb to kHeld and wait for the rest.
        for (int i = 0; i < 5000; ++i) {
          const std::int64_t size = static_cast<std::int64_t>(random() % 4000) + 1;
          traced::add(size);
          traced::add(-size);
        }
        std::int64_t held = 0;
        while (held < kHeld) {
          const std::int64_t size = std::min<std::int64_t>(kHeld - held, static_cast<std::int64_t>(random() % 9000) + 1);
          traced::add(size);
          held += size;
        }
        holding.fetch_add(1);
        while (!release.load()) std::this_thread::yield();
        traced::add(-held);
      });
    }
    while (holding.load() < kThreads) std::this_thread::yield();
    const traced::Totals at_high_point = traced::totals();
    CHECK(at_high_point.current == kThreads * kHeld);
    release.store(true);
    for (std::thread& thread : threads) thread.join();
    const traced::Totals after = traced::totals();
    CHECK(after.current == 0);
    CHECK(after.peak >= kThreads * kHeld);  // the true peak, reached while every thread held kHeld
    CHECK(after.peak <= kThreads * kHeld + (kThreads - 1) * traced::kMaxThreadHeadroom);
  }
  reset_all();
}

TEST_CASE("one thread: the window's peak is exact, restarts at each window, and the whole run's is its maximum") {
  reset_all();
  RandomHeap heap(11);
  std::int64_t peak = 0, window_peak = 0;
  for (int step = 0; step < 20000; ++step) {
    heap.step((step / 1500) % 2 == 0);
    const std::int64_t current = heap.current;
    peak = std::max(peak, current);
    window_peak = std::max(window_peak, current);
    if (step % 613 == 0 && step > 0) {
      traced::start_peak_window();  // what an interval snapshot does: the window starts over
      window_peak = current;
    }
    const traced::Totals totals = traced::totals();
    REQUIRE(totals.current == current);
    REQUIRE(totals.window_peak == window_peak);
    REQUIRE(totals.peak == peak);  // untouched by the windows
  }
}

TEST_CASE("the peak views: the window's and the whole run's, each of the sites at its peak") {
  using heapsnap::site_counters::PeakWindow;
  namespace counters = heapsnap::site_counters;
  reset_all();
  const auto first = static_cast<heapsnap::alloc::SiteTag>(static_cast<std::uint32_t>(heapsnap::alloc::SiteTag::FirstTraced) + 1);
  const auto second = static_cast<heapsnap::alloc::SiteTag>(static_cast<std::uint32_t>(first) + 1);
  int blocks[4];
  // 1 MiB at the first site, freed: the whole run's peak.
  counters::allocated(first, 1 << 20, &blocks[0]);
  traced::add(1 << 20);
  counters::freed(first, 1 << 20, &blocks[0]);
  traced::add(-(1 << 20));
  traced::start_peak_window();
  // 256 KiB at the second: the new window's peak only.
  counters::allocated(second, 256 << 10, &blocks[1]);
  traced::add(256 << 10);
  const counters::PeakView whole = counters::peak_view(PeakWindow::Whole);
  const counters::PeakView window = counters::peak_view(PeakWindow::SincePrevious);
  REQUIRE(whole.sites.size() == 1);
  CHECK((whole.sites[0].site == first && whole.sites[0].bytes == (1 << 20) && whole.total == (1 << 20)));
  REQUIRE(window.sites.size() == 1);
  CHECK((window.sites[0].site == second && window.sites[0].bytes == (256 << 10) && window.total == (256 << 10)));
  CHECK((counters::peak_view_total(PeakWindow::Whole) == (1 << 20) && counters::peak_view_total(PeakWindow::SincePrevious) == (256 << 10)));
  counters::freed(second, 256 << 10, &blocks[1]);
  traced::add(-(256 << 10));
  reset_all();
}
