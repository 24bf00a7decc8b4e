// The conservative collector in a process whose allocations all go through heapsnap (this test links
// libheapsnap_preload.so): what is reachable from any root is never reported, what is not is, and
// cycles come out as cycles.

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "preload/api.h"
#include "preload/leak_api.h"
#include "test/runtime/collector_test_support.h"

using collector_test::collect_with_clean_stack;
using collector_test::escape;
using collector_test::reachability_of;
using collector_test::Tracing;

namespace {

struct Node {
  Node* next = nullptr;
  char payload[40] = {};
};

// Volatile: the optimizer must really store what the test hides.
volatile std::uintptr_t g_disguised = 0;
Node* volatile g_global_list = nullptr;

[[gnu::noinline]] Node* make_node() { return new Node(); }

// Builds a list and drops it. Not inlined into the test: its locals must die with its frame.
[[gnu::noinline]] void drop_a_list(int length) {
  Node* lost = nullptr;
  for (int i = 0; i < length; ++i) {
    Node* node = new Node();  // another line than make_node: its own traceback
    node->next = lost;
    lost = node;
  }
  escape(lost);
}

[[gnu::noinline]] std::uintptr_t allocate_disguised(std::size_t size) {
  return reinterpret_cast<std::uintptr_t>(std::malloc(size)) ^ 0x5a5a5a5a5aULL;
}

[[gnu::noinline]] void leak_ring(std::size_t length) {
  std::vector<Node*> nodes;
  for (std::size_t i = 0; i < length; ++i) nodes.push_back(make_node());
  for (std::size_t i = 0; i < length; ++i) nodes[i]->next = nodes[(i + 1) % length];
}

}  // namespace

TEST_CASE("globals, stack and interior pointers keep blocks alive; a disguised pointer does not") {
  Tracing tracing;
  auto* on_stack = static_cast<char*>(std::malloc(100));
  auto* by_interior = static_cast<char*>(std::malloc(100));
  char* volatile interior = by_interior + 57;
  g_disguised = allocate_disguised(100);
  const auto snapshot = collect_with_clean_stack();
  CHECK(snapshot.leak_analysis);
  CHECK(reachability_of(snapshot, on_stack) == heapsnap::Reachability::Reachable);
  CHECK(reachability_of(snapshot, interior - 57) == heapsnap::Reachability::Reachable);
  void* recovered = reinterpret_cast<void*>(g_disguised ^ 0x5a5a5a5a5aULL);
  CHECK(reachability_of(snapshot, recovered) == heapsnap::Reachability::Direct);
  std::free(on_stack);
  std::free(by_interior);
  std::free(recovered);
}

TEST_CASE("blocks held by a dlopen'ed library's globals and TLS are reachable") {
  Tracing tracing;
  void* library = dlopen(HEAPSNAP_ROOTS_LIBRARY, RTLD_NOW);
  REQUIRE(library != nullptr);
  auto hold_in_global = reinterpret_cast<void* (*)(std::size_t)>(dlsym(library, "roots_library_hold_in_global"));
  auto hold_in_tls = reinterpret_cast<void* (*)(std::size_t)>(dlsym(library, "roots_library_hold_in_tls"));
  auto release = reinterpret_cast<void (*)()>(dlsym(library, "roots_library_release"));
  REQUIRE((hold_in_global && hold_in_tls && release));
  // Keep only disguised copies here, so that the library's roots are the only real references.
  const std::uintptr_t global_block = reinterpret_cast<std::uintptr_t>(hold_in_global(80)) ^ 1;
  const std::uintptr_t tls_block = reinterpret_cast<std::uintptr_t>(hold_in_tls(90)) ^ 1;
  const auto snapshot = collect_with_clean_stack();
  CHECK(reachability_of(snapshot, reinterpret_cast<void*>(global_block ^ 1)) == heapsnap::Reachability::Reachable);
  CHECK(reachability_of(snapshot, reinterpret_cast<void*>(tls_block ^ 1)) == heapsnap::Reachability::Reachable);
  release();
  dlclose(library);
}

TEST_CASE("a block only another thread's stack or registers hold is reachable") {
  Tracing tracing;
  std::atomic<std::uintptr_t> disguised{0};
  std::atomic<bool> stop{false};
  std::thread holder([&] {
    void* held = std::malloc(200);
    disguised = reinterpret_cast<std::uintptr_t>(held) ^ 1;
    while (!stop) asm volatile("" : "+r"(held));  // live in a register (and maybe on this stack)
    std::free(held);
  });
  while (disguised == 0) std::this_thread::yield();
  const auto snapshot = collect_with_clean_stack();
  CHECK(reachability_of(snapshot, reinterpret_cast<void*>(disguised ^ 1)) == heapsnap::Reachability::Reachable);
  stop = true;
  holder.join();
}

// A thread that blocks every signal, as the signal-handling thread of a server does, holding a block
// only in a register until told to stop.
class SignalBlockingHolder {
 public:
  SignalBlockingHolder()
      : thread_([this] {
          sigset_t all;
          sigfillset(&all);
          pthread_sigmask(SIG_BLOCK, &all, nullptr);
          void* held = std::malloc(210);
          disguised_ = reinterpret_cast<std::uintptr_t>(held) ^ 1;
          while (!stop_) asm volatile("" : "+r"(held));
          std::free(held);
        }) {
    while (disguised_ == 0) std::this_thread::yield();
  }
  ~SignalBlockingHolder() {
    stop_ = true;
    thread_.join();
  }
  const void* block() const { return reinterpret_cast<const void*>(disguised_ ^ 1); }

 private:
  std::atomic<std::uintptr_t> disguised_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_CASE("ptrace stops and scans a thread that blocks every signal") {
  Tracing tracing;
  SignalBlockingHolder holder;
  const auto snapshot = collect_with_clean_stack();
  REQUIRE(snapshot.thread_stop.has_value());
  CHECK(snapshot.thread_stop->method == heapsnap::StopMethod::Ptrace);
  CHECK(snapshot.thread_stop->fallback_reason.empty());
  CHECK(snapshot.thread_stop->threads_unscanned == 0);
  CHECK(snapshot.thread_stop->threads_scanned >= 2);
  CHECK(reachability_of(snapshot, holder.block()) == heapsnap::Reachability::Reachable);
}

TEST_CASE("with HEAPSNAP_STOP_METHOD=signals a thread blocking the stop signal is counted unscanned") {
  Tracing tracing;
  SignalBlockingHolder holder;
  setenv("HEAPSNAP_STOP_METHOD", "signals", 1);
  const auto snapshot = collect_with_clean_stack();
  unsetenv("HEAPSNAP_STOP_METHOD");
  REQUIRE(snapshot.thread_stop.has_value());
  CHECK(snapshot.thread_stop->method == heapsnap::StopMethod::Signals);
  CHECK(snapshot.thread_stop->fallback_reason == "HEAPSNAP_STOP_METHOD=signals");
  CHECK(snapshot.thread_stop->threads_unscanned == 1);
}

TEST_CASE("both methods find what a thread waiting in the kernel holds, again and again") {
  Tracing tracing;
  const char* method = GENERATE("ptrace", "signals");
  setenv("HEAPSNAP_STOP_METHOD", method, 1);
  std::atomic<std::uintptr_t> disguised{0};
  int never_written[2];
  REQUIRE(pipe(never_written) == 0);
  std::thread waiter([&] {
    void* held = std::malloc(220);
    disguised = reinterpret_cast<std::uintptr_t>(held) ^ 1;
    char byte;
    while (read(never_written[0], &byte, 1) < 0) {
    }
    escape(held);
    std::free(held);
  });
  while (disguised == 0) std::this_thread::yield();
  for (int round = 0; round < 5; ++round) {
    const auto snapshot = collect_with_clean_stack();
    CHECK(std::string(heapsnap::stop_method_name(snapshot.thread_stop->method)) == method);
    CHECK(snapshot.thread_stop->threads_unscanned == 0);
    CHECK(reachability_of(snapshot, reinterpret_cast<void*>(disguised ^ 1)) == heapsnap::Reachability::Reachable);
  }
  unsetenv("HEAPSNAP_STOP_METHOD");
  close(never_written[1]);  // read returns 0: the waiter ends
  waiter.join();
  close(never_written[0]);
}

TEST_CASE("deep lists: 100k reachable nodes, and 100k leaked ones (1 direct, the rest indirect)") {
  Tracing tracing;
  Node* head = nullptr;
  for (int i = 0; i < 100000; ++i) {
    Node* node = make_node();
    node->next = head;
    head = node;
  }
  g_global_list = head;
  drop_a_list(100000);
  const auto snapshot = collect_with_clean_stack();
  std::uint64_t reachable = 0, direct = 0, indirect = 0;
  const auto list_site = heapsnap::get_object_traceback(g_global_list);
  for (const auto& trace : snapshot.traces) {
    if (trace.reachability == heapsnap::Reachability::Direct) direct += trace.count;
    if (trace.reachability == heapsnap::Reachability::Indirect) indirect += trace.count;
    if (snapshot.traceback_of(trace) == *list_site && trace.reachability == heapsnap::Reachability::Reachable)
      reachable += trace.count;
  }
  CHECK(reachable == 100000);
  CHECK(direct == 1);
  CHECK(indirect == 99999);
  for (Node* node = g_global_list; node != nullptr;) {
    Node* next = node->next;
    delete node;
    node = next;
  }
  g_global_list = nullptr;
}

TEST_CASE("unreachable rings and self-loops are reported as cycles with their edges") {
  Tracing tracing;
  collector_test::on_fresh_thread([] {
    leak_ring(3);
    leak_ring(2);
    leak_ring(1);  // a node pointing to itself
  });
  auto* held = new Node();  // a reachable ring: not a leak
  held->next = new Node();
  held->next->next = held;
  g_global_list = held;

  const auto snapshot = collect_with_clean_stack();
  std::multiset<std::size_t> sizes;
  for (const auto& cycle : snapshot.cycles) {
    CHECK_FALSE(cycle.reachable);
    sizes.insert(cycle.members.size());
    CHECK(cycle.edges.size() == cycle.members.size());  // a ring: one `next` per member
    CHECK(cycle.bytes == cycle.members.size() * sizeof(Node));
    for (const auto& edge : cycle.edges) {
      CHECK(edge.offset == offsetof(Node, next));
      CHECK(edge.from < cycle.members.size());
      CHECK(edge.to < cycle.members.size());
    }
    for (const auto& member : cycle.members) {
      const auto& frames = snapshot.tracebacks[static_cast<std::uint32_t>(member.traceback)].frames;
      REQUIRE_FALSE(frames.empty());
      CHECK(frames[0].function.find("make_node") != std::string::npos);
    }
  }
  CHECK(sizes == std::multiset<std::size_t>{1, 2, 3});
  std::uint64_t cycle_blocks = 0;
  for (const auto& trace : snapshot.traces)
    if (trace.reachability == heapsnap::Reachability::Cycle) cycle_blocks += trace.count;
  CHECK(cycle_blocks == 6);

  const auto with_reachable = collect_with_clean_stack({.reachable_cycles = true});
  std::size_t reachable_cycles = 0;
  for (const auto& cycle : with_reachable.cycles) reachable_cycles += cycle.reachable && cycle.members.size() == 2 ? 1 : 0;
  CHECK(reachable_cycles >= 1);
  delete held->next;
  delete held;
  g_global_list = nullptr;
}

TEST_CASE("referrers name the blocks and roots that point to a block") {
  Tracing tracing;
  auto* target = new Node();
  auto* a = new Node();
  auto* b = new Node();
  a->next = target;
  b->next = target;
  g_global_list = a;
  std::size_t from_blocks = 0;
  bool from_global = false;
  for (const auto& referrer : heapsnap::get_referrers(target)) {
    if (referrer.kind == heapsnap::Referrer::Kind::Block) {
      ++from_blocks;
      CHECK((referrer.block == reinterpret_cast<std::uintptr_t>(a) || referrer.block == reinterpret_cast<std::uintptr_t>(b)));
      CHECK(referrer.holder == referrer.block + offsetof(Node, next));
      CHECK(referrer.traceback.has_value());
    }
  }
  for (const auto& referrer : heapsnap::get_referrers(a)) from_global |= referrer.kind == heapsnap::Referrer::Kind::Global;
  CHECK(from_blocks == 2);
  CHECK(from_global);
  CHECK(heapsnap::get_referrers(reinterpret_cast<void*>(&from_global)).empty());  // not a heap block
  delete a;
  delete b;
  delete target;
  g_global_list = nullptr;
}

TEST_CASE("many threads allocating during repeated scans: no deadlock, nothing reachable reported") {
  Tracing tracing;
  constexpr int kThreads = 12;
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      ++running;
      std::vector<std::unique_ptr<Node>> mine;
      while (!stop) {
        mine.push_back(std::make_unique<Node>());
        if (mine.size() > 500) mine.clear();
      }
    });
  while (running < kThreads) std::this_thread::yield();
  for (int round = 0; round < 10; ++round) {
    const auto snapshot = collect_with_clean_stack();
    // The analysis ran over the threads' live blocks and found them reachable. Blocks the threads
    // allocated once they were let go again are in the snapshot as not analyzed: no verdict either way.
    REQUIRE(snapshot.leak_analysis);
    REQUIRE_FALSE(snapshot.traces.empty());
    std::uint64_t leaked = 0;
    std::uint64_t reachable = 0;
    for (const auto& trace : snapshot.traces) {
      if (trace.reachability == heapsnap::Reachability::Reachable) reachable += trace.count;
      else if (trace.reachability != heapsnap::Reachability::NotAnalyzed) leaked += trace.count;
    }
    CHECK(reachable > 0);
    CHECK(leaked == 0);
  }
  stop = true;
  for (auto& thread : threads) thread.join();
}
