// Reference cycles, the leak no peer reports as such. With `cycles [THREADS]` this program leaves, at
// exit, exactly:
//   100 unreachable cycles of 2 Nodes   (a <-> b through std::shared_ptr)      CYCLE SITE
//    10 unreachable cycles of 3 Nodes   (a -> b -> c -> a)
//     7 unreachable Nodes that own themselves (self-cycles)
//     5 plain leaks of 64 bytes         (malloc, pointer dropped)             PLAIN LEAK SITE
// and keeps reachable, so not leaked: a 4-Node ring held by a global, and (with THREADS > 0) a
// 2-Node ring on each worker thread's stack while the worker waits for the end of the program.
// With THREADS > 0 the workers build the cycles between them.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "escape.h"

namespace {

struct Node {
  std::shared_ptr<Node> next;
  int payload[4] = {};
};

std::shared_ptr<Node> g_reachable_ring;  // reachable at exit: not a leak
std::atomic<int> g_workers_ready{0};

[[gnu::noinline]] std::shared_ptr<Node> make_node() {
  return std::make_shared<Node>();  // CYCLE SITE
}

// A ring of `length` nodes; returns one of them (the caller decides whether to keep it).
[[gnu::noinline]] std::shared_ptr<Node> make_ring(int length) {
  std::shared_ptr<Node> first = make_node();
  std::shared_ptr<Node> last = first;
  for (int i = 1; i < length; ++i) {
    last->next = make_node();
    last = last->next;
  }
  last->next = first;
  return first;
}

[[gnu::noinline]] void drop_rings(int count, int length) {
  for (int i = 0; i < count; ++i) make_ring(length);  // the only outside owner goes away here
}

[[gnu::noinline]] void leak_plain(int count) {
  for (int i = 0; i < count; ++i) escape(std::malloc(64));  // PLAIN LEAK SITE
}

// The share of all the leaks that worker `index` of `workers` builds.
[[gnu::noinline]] void build_share(int index, int workers) {
  auto share = [&](int total) { return total / workers + (index < total % workers ? 1 : 0); };
  drop_rings(share(100), 2);
  drop_rings(share(10), 3);
  drop_rings(share(7), 1);
  leak_plain(share(5));
}

void worker(int index, int workers) {
  build_share(index, workers);
  std::shared_ptr<Node> held_on_my_stack = make_ring(2);  // reachable while this thread lives
  ++g_workers_ready;
  while (true) {  // until the process exits (no condition variable: its destructor would wait for us)
    pause();
    escape(held_on_my_stack.get());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int workers = argc > 1 ? std::atoi(argv[1]) : 0;
  g_reachable_ring = make_ring(4);
  if (workers <= 0) {
    build_share(0, 1);
  } else {
    for (int i = 0; i < workers; ++i) std::thread(worker, i, workers).detach();
    while (g_workers_ready < workers) std::this_thread::yield();
  }
  std::printf("cycles: built 117 unreachable cycles and 5 plain leaks with %d worker threads\n", workers);
  return 0;
}
