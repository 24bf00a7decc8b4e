// Big, deep, random and threaded graphs: no recursion anywhere (100k chains and cycles), collect()
// frees exactly the unreachable objects of seeded random graphs, threads sharing a collector under
// its lock, and a wrong refcount stops the program as CPython's debug build does.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <queue>
#include <random>
#include <thread>

#include "gc_test_support.h"

namespace pymodel {
namespace {

constexpr int kDeep = 100'000;

// A node of the random graphs: knows its index, and counts itself alive in `alive`.
class GraphNode final : public PyObject {
 public:
  GraphNode(std::size_t index_, std::vector<bool>& alive_) : index(index_), alive(alive_) { alive[index] = true; }
  ~GraphNode() override { alive[index] = false; }
  void traverse(Visitor& visit) const noexcept override {
    for (const Ref<GraphNode>& r : out) visit(r);
  }
  void clear() noexcept override {
    std::vector<Ref<GraphNode>> old;
    old.swap(out);
  }
  const std::size_t index;
  std::vector<bool>& alive;
  std::vector<Ref<GraphNode>> out;
};

class Link final : public PyObject {
 public:
  void traverse(Visitor& visit) const noexcept override { visit(next); }
  void clear() noexcept override { next.reset(); }
  Ref<Link> next;
};

// A chain of `length` links; returns the head.
Ref<Link> chain(Collector& gc, int length, Ref<Link> tail = {}) {
  Ref<Link> head = std::move(tail);
  for (int i = 0; i < length; ++i) {
    Ref<Link> link = gc.make<Link>();
    link->next = std::move(head);
    head = std::move(link);
  }
  return head;
}

TEST_CASE_METHOD(GcTest, "a 100k chain: survives collection when held, frees without recursion when dropped",
                 "[gc][deep]") {
  Ref<Link> head = chain(gc, kDeep);
  CHECK(gc.collect() == 0);
  CHECK(alive_since_start() == kDeep);
  CHECK(gc.get_objects(2).size() == static_cast<std::size_t>(kDeep));
  head.reset();  // the trashcan: constant stack
  CHECK(alive_since_start() == 0);
  CHECK(gc.get_objects().empty());
}

TEST_CASE_METHOD(GcTest, "a 100k-member cycle, and a 100k chain hanging off a cycle", "[gc][deep]") {
  gc.record_cycles(true);
  {
    Ref<Link> last = gc.make<Link>();
    Ref<Link> head = chain(gc, kDeep - 1, last);
    last->next = head;
  }
  CHECK(gc.collect() == static_cast<std::size_t>(kDeep));
  CHECK(alive_since_start() == 0);
  const auto cycles = gc.last_cycles();
  REQUIRE(cycles.size() == 1);
  CHECK(cycles[0].cycle.members.size() == static_cast<std::size_t>(kDeep));
  CHECK(cycles[0].cycle.edges.size() == static_cast<std::size_t>(kDeep));

  {
    Ref<Link> loop = gc.make<Link>();
    loop->next = chain(gc, kDeep, loop);  // loop -> 100k links -> loop: one big ring again
    Ref<Link> self = gc.make<Link>();
    self->next = self;
    Ref<Link> tail_holder = gc.make<Link>();  // no cycle: it and its 100k tail go by refcount
    tail_holder->next = chain(gc, kDeep);
  }
  CHECK(alive_since_start() == kDeep + 1 + 1);  // the big ring and the self-loop
  CHECK(gc.collect() == static_cast<std::size_t>(kDeep + 2));
  CHECK(alive_since_start() == 0);
}

// Builds a random graph over `n` nodes and `roots`, computes reachability by BFS, and checks that
// collect(generation) frees exactly the nodes nothing reaches.
struct RandomGraph {
  RandomGraph(Collector& gc_, std::uint32_t seed, std::size_t n_) : gc(gc_), random(seed), n(n_), alive(n_, false) {}

  void build(double edges_per_node, double root_probability) {
    for (std::size_t i = 0; i < n; ++i) nodes.push_back(gc.make<GraphNode>(i, alive));
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    std::poisson_distribution<int> degree(edges_per_node);
    std::bernoulli_distribution is_root(root_probability);
    for (std::size_t i = 0; i < n; ++i) {
      for (int e = degree(random); e > 0; --e) nodes[i]->out.push_back(nodes[pick(random)]);
      if (is_root(random)) roots.push_back(nodes[i]);
    }
    nodes.clear();  // from here on, only roots and edges keep nodes alive
  }

  std::vector<bool> reachable_from_roots() const {
    std::vector<bool> reached(n, false);
    std::queue<const GraphNode*> queue;
    auto reach = [&](const GraphNode* node) {
      if (reached[node->index]) return;
      reached[node->index] = true;
      queue.push(node);
    };
    for (const Ref<GraphNode>& root : roots) reach(root.get());
    while (!queue.empty()) {
      const GraphNode* node = queue.front();
      queue.pop();
      for (const Ref<GraphNode>& next : node->out) reach(next.get());
    }
    return reached;
  }

  Collector& gc;
  std::mt19937 random;
  const std::size_t n;
  std::vector<bool> alive;
  std::vector<Ref<GraphNode>> nodes;
  std::vector<Ref<GraphNode>> roots;
};

std::size_t count(const std::vector<bool>& bits) { return static_cast<std::size_t>(std::count(bits.begin(), bits.end(), true)); }

TEST_CASE_METHOD(GcTest, "random graphs: collect() frees exactly the unreachable nodes", "[gc][random]") {
  for (std::uint32_t seed : {1u, 2u, 3u, 42u, 2024u}) {
    for (double degree : {0.5, 1.0, 2.5}) {
      INFO("seed " << seed << ", mean degree " << degree);
      RandomGraph graph(gc, seed, 2000);
      graph.build(degree, 0.02);
      // Acyclic garbage went by refcount already; what is left is reachable or held by cycles.
      const std::vector<bool> expected = graph.reachable_from_roots();
      const std::size_t alive_before = count(graph.alive);
      REQUIRE(alive_before >= count(expected));
      CHECK(gc.collect() == alive_before - count(expected));
      CHECK(graph.alive == expected);
      graph.roots.clear();
      gc.collect();
      CHECK(count(graph.alive) == 0);
      gc.validate();
    }
  }
}

TEST_CASE_METHOD(GcTest, "random graphs across generations: older objects are roots for a young collection",
                 "[gc][random]") {
  // Old nodes are made and aged first, young ones after; then random edges among all of them.
  for (std::uint32_t seed : {7u, 8u, 9u}) {
    INFO("seed " << seed);
    std::mt19937 random(seed);
    constexpr std::size_t n = 3000, old_n = 1500;
    std::vector<bool> alive(n, false);
    std::vector<Ref<GraphNode>> nodes;
    for (std::size_t i = 0; i < old_n; ++i) nodes.push_back(gc.make<GraphNode>(i, alive));
    gc.collect(0);  // the old half to generation 1 (all pinned by `nodes`)
    for (std::size_t i = old_n; i < n; ++i) nodes.push_back(gc.make<GraphNode>(i, alive));
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    std::poisson_distribution<int> degree(1.5);
    std::bernoulli_distribution is_root(0.03);
    std::vector<Ref<GraphNode>> roots;
    for (std::size_t i = 0; i < n; ++i) {
      for (int e = degree(random); e > 0; --e) nodes[i]->out.push_back(nodes[pick(random)]);
      if (is_root(random)) roots.push_back(nodes[i]);
    }
    nodes.clear();
    auto reachable = [&](bool old_are_roots) {
      std::vector<bool> reached(n, false);
      std::vector<const GraphNode*> stack;
      auto reach = [&](const GraphNode* node) {
        if (!reached[node->index]) {
          reached[node->index] = true;
          stack.push_back(node);
        }
      };
      for (const Ref<GraphNode>& root : roots) reach(root.get());
      if (old_are_roots)
        for (const Ref<Object>& object : gc.get_objects(1)) reach(dynamic_cast<const GraphNode*>(object.get()));
      while (!stack.empty()) {
        const GraphNode* node = stack.back();
        stack.pop_back();
        for (const Ref<GraphNode>& next : node->out) reach(next.get());
      }
      return reached;
    };
    // collect(0): young nodes survive if reachable from the roots or from any old node, dead or not.
    std::vector<bool> expected = reachable(true);
    for (std::size_t i = 0; i < old_n; ++i) expected[i] = alive[i];  // old ones are not examined
    std::size_t young_alive = 0, young_expected = 0;
    for (std::size_t i = old_n; i < n; ++i) {
      young_alive += alive[i];
      young_expected += expected[i];
    }
    CHECK(gc.collect(0) == young_alive - young_expected);
    CHECK(alive == expected);
    // collect(1): now everything is examined; only the roots count.
    expected = reachable(false);
    const std::size_t alive_now = count(alive);
    CHECK(gc.collect(1) == alive_now - count(expected));
    CHECK(alive == expected);
    roots.clear();
    gc.collect();
    CHECK(count(alive) == 0);
  }
}

TEST_CASE_METHOD(GcTest, "test_trashcan: deep nesting with finalizers that collect", "[gc][port]") {
  gc.enable();
  constexpr int N = 150;
  int ouch = 0;
  Ref<Type> ouch_class = make_class(gc, "Ouch");
  auto make_ouch = [&] {
    return gc.make<DelInstance>(ouch_class, [&](DelInstance&) {
      if (++ouch % 17 == 0) gc.collect();
    });
  };
  for (int count = 0; count < 2; ++count) {
    Ref<Object> t = gc.make<List>();
    for (int i = 0; i < N; ++i) t = gc.make<List>(std::vector<Ref<Object>>{t, make_ouch()});
    Ref<Object> u = gc.make<List>();
    for (int i = 0; i < N; ++i) u = gc.make<List>(std::vector<Ref<Object>>{u, make_ouch()});
    Ref<Object> v = gc.make<Dict>();
    for (int i = 0; i < N; ++i) {
      Ref<Dict> d = gc.make<Dict>();
      d->set(make_int(1), v);
      d->set(make_int(2), make_ouch());
      v = d;
    }
  }
  gc.disable();
  CHECK(ouch == 2 * 3 * N);
  CHECK(alive_since_start() == 5);
}

// C (test_trashcan_threads): a list subclass whose __del__ counts.
class DelList final : public List {
 public:
  DelList(std::vector<Ref<Object>> items_, std::atomic<int>& dels_) : List(std::move(items_)), dels(dels_) {}
  void finalize() noexcept override { ++dels; }
  std::atomic<int>& dels;
};

TEST_CASE_METHOD(GcTest, "test_trashcan_threads: nested containers with finalizers on two threads", "[gc][port]") {
  constexpr int kNesting = 60, kThreads = 2, kRounds = 200;
  std::atomic<int> inits{0}, dels{0};
  gc.enable();
  auto make_c = [&](std::vector<Ref<Object>> items) {
    ++inits;
    return gc.make<DelList>(std::move(items), dels);
  };
  auto make_nested = [&] {  // x = C([]); for i in range(NESTING): x = [C([x])]
    Ref<Object> x = make_c({});
    for (int i = 0; i < kNesting; ++i) x = gc.make<List>(std::vector<Ref<Object>>{make_c({x})});
  };
  auto run_thread = [&] {
    for (int round = 0; round < kRounds; ++round) {
      auto gil = gc.lock();  // every change to tracked objects under the collector's lock
      make_nested();
      gc.collect(0);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(run_thread);
  for (std::thread& t : threads) t.join();
  gc.disable();
  gc.collect();
  CHECK(inits == kThreads * kRounds * (kNesting + 1));
  CHECK(dels == inits);
  CHECK(alive_since_start() == 0);
}

TEST_CASE_METHOD(GcTest, "threads building and dropping cycles while others collect", "[gc][threads]") {
  constexpr int kThreads = 4, kRounds = 300;
  std::atomic<std::size_t> collected{0};
  gc.enable();
  gc.set_threshold(50);
  auto run = [&](unsigned seed) {
    std::mt19937 random(seed);
    for (int round = 0; round < kRounds; ++round) {
      auto gil = gc.lock();
      std::vector<Ref<List>> ring;
      const int length = 1 + static_cast<int>(random() % 5);
      for (int i = 0; i < length; ++i) ring.push_back(gc.make<List>());
      for (int i = 0; i < length; ++i) ring[i]->append(ring[(i + 1) % length]);
      ring.clear();
      if (round % 10 == 0) collected += gc.collect(static_cast<int>(random() % 3));
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < kThreads; ++i) threads.emplace_back(run, i + 1);
  for (std::thread& t : threads) t.join();
  gc.disable();
  gc.collect();
  CHECK(alive_since_start() == 0);
  CHECK(collected > 0);
}

TEST_CASE("test_refcount_errors: a refcount too small for the references stops the program", "[gc][port]") {
  int err[2];
  REQUIRE(pipe(err) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);  // not Catch's handler: the child is to die of it
    dup2(err[1], STDERR_FILENO);
    close(err[0]);
    Collector gc;
    gc.disable();
    Ref<List> globals = gc.make<List>();  // stands for the module dict that holds `a` and `b`
    Ref<List> a = gc.make<List>(std::vector<Ref<Object>>{make_int(1), make_int(2), make_int(3)});
    Ref<List> b = gc.make<List>(std::vector<Ref<Object>>{a});
    globals->append(a);
    globals->append(b);
    List* raw = a.get();
    a.reset();      // `a` is now referenced by globals and b only: refcount 2
    raw->decref();  // simulate a refcount too low, but above zero
    gc.collect();
    _exit(0);  // not reached
  }
  close(err[1]);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = read(err[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  close(err[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK_THAT(text, Catch::Contains("heapsnap gc: refcount is too small: object <pymodel::List at 0x"));
  CHECK_THAT(text, Catch::Contains("has refcount 1"));
}

}  // namespace
}  // namespace pymodel
