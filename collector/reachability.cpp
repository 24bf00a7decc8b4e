#include "collector/reachability.h"

#include <link.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <functional>

#include "collector/memory_map.h"
#include "collector/root_set.h"
#include "collector/stop_the_world.h"
#include "runtime/recursion_guard.h"

namespace heapsnap::collector {
namespace {

constexpr std::size_t kRedZone = 128;  // x86-64 leaf functions may use 128 bytes below the stack pointer

// True when a stopped thread was inside a system call: the instruction before its resume address is
// `syscall`. It then sits in a libc wrapper, called like any function: the caller-saved registers
// and the red zone below its stack pointer hold nothing its callers may rely on, only stale values
// (a leaked block's address among them) that would keep leaks "reachable".
bool stopped_in_system_call(const StoppedThread& thread, const MemoryMap& map) {
#if defined(__x86_64__)
  const auto resume = static_cast<std::uintptr_t>(thread.registers[REG_RIP]);
  const MemoryRegion* code = map.region_containing(resume - 2);
  if (code == nullptr || !code->readable || code != map.region_containing(resume)) return false;
  const auto* instruction = reinterpret_cast<const unsigned char*>(resume - 2);
  return instruction[0] == 0x0f && instruction[1] == 0x05;
#else
  (void)thread;
  (void)map;
  return false;
#endif
}

// The registers of a stopped thread that may hold the program's pointers.
std::vector<std::uintptr_t> live_registers(const StoppedThread& thread, bool in_system_call) {
  std::vector<std::uintptr_t> registers(std::begin(thread.registers), std::end(thread.registers));
#if defined(__x86_64__)
  if (in_system_call) {
    registers.clear();
    for (int r : {REG_RBX, REG_RBP, REG_R12, REG_R13, REG_R14, REG_R15})  // callee-saved
      registers.push_back(static_cast<std::uintptr_t>(thread.registers[r]));
  }
#endif
  return registers;
}

std::uintptr_t own_thread_pointer() {
#if defined(__x86_64__) || defined(__aarch64__)
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
#else
  return 0;
#endif
}

// Every root, gathered while the world is stopped (when asked); then `scan` runs, still stopped.
struct RootScan {
  RootSet roots;
  std::size_t threads_scanned = 0;
  std::size_t threads_unresponsive = 0;
  StopMethod stop_method = StopMethod::None;
  std::string stop_fallback_reason;
};

// The calling thread's stack is scanned from caller.stack_low up, with caller.registers as its
// registers (the entry point below pushed them onto the stack when it passes none).
template <typename WithRoots>
void with_roots_stopped(bool stop_other_threads, const CallerFrame& caller, WithRoots&& with_roots) {
  // Module ranges first, before any thread stops: dl_iterate_phdr takes the loader's lock, which a
  // stopped thread could be holding.
  std::vector<RootRange> globals = module_globals();
  const pid_t own_tid = static_cast<pid_t>(syscall(SYS_gettid));

  std::optional<WorldStop> world;
  if (stop_other_threads) world.emplace();
  const MemoryMap map = MemoryMap::of_this_process();
  std::vector<LiveThread> threads;
  threads.push_back({own_tid, reinterpret_cast<std::uintptr_t>(caller.stack_low), own_thread_pointer(), caller.registers});
  RootScan scan;
  if (world) {
    for (const StoppedThread* thread : world->stopped()) {
      const bool in_system_call = stopped_in_system_call(*thread, map);
      threads.push_back({thread->tid, thread->stack_pointer - (in_system_call ? 0 : kRedZone), thread->thread_pointer,
                         live_registers(*thread, in_system_call)});
    }
    scan.threads_unresponsive = world->unresponsive();
    scan.stop_method = world->method();
    scan.stop_fallback_reason = world->fallback_reason();
  }
  scan.threads_scanned = threads.size();
  scan.roots = gather_roots(map, std::move(globals), threads, world && world->unresponsive() == 0);
  with_roots(scan);  // still stopped: the other threads cannot change what is being scanned
}

class Marker {
 public:
  explicit Marker(HeapGraph& graph) : graph_(graph) {}

  void reach_from_word(std::uintptr_t word) {
    const auto node = graph_.node_at(word);
    if (!node || graph_.state(*node) == Reachability::Reachable) return;
    graph_.state(*node) = Reachability::Reachable;
    work_.push_back(*node);
  }
  void drain() {  // iterative: a 100k-node list must not overflow the stack
    while (!work_.empty()) {
      const std::uint32_t node = work_.back();
      work_.pop_back();
      graph_.for_each_edge(node, [&](std::size_t, std::uint32_t target) {
        if (graph_.state(target) == Reachability::Reachable) return;
        graph_.state(target) = Reachability::Reachable;
        work_.push_back(target);
      });
    }
  }

 private:
  HeapGraph& graph_;
  std::vector<std::uint32_t> work_;
};

void classify_unreachable(LeakAnalysis& analysis) {
  HeapGraph& graph = analysis.graph;
  const auto nodes = static_cast<std::uint32_t>(graph.nodes().size());
  const EdgeList edges = edges_among(graph, [&](std::uint32_t n) { return graph.state(n) != Reachability::Reachable; });
  analysis.cycles = find_cycles(graph, edges);
  for (const FoundCycle& cycle : analysis.cycles)
    for (std::uint32_t member : cycle.members) graph.state(member) = Reachability::Cycle;
  // A leaked block that another leaked block points to is an indirect leak (unless in a cycle).
  for (std::uint32_t n = 0; n < nodes; ++n) {
    for (std::uint32_t e = edges.first[n]; e < edges.first[n + 1]; ++e) {
      const std::uint32_t target = edges.target[e];
      if (target != n && graph.state(target) == Reachability::Direct) graph.state(target) = Reachability::Indirect;
    }
  }
}

}  // namespace

// Everything below allocates as heapsnap (RecursionGuard): the graph's own buffers must not become
// nodes of the graph. The heap is walked while the world is stopped: a thread that moved its
// pointers between the walk and the stop would otherwise hide blocks behind ones the walk never saw.
LeakAnalysis analyze_leaks_from(const CallerFrame& caller, const LeakAnalysisOptions& options) {
  RecursionGuard guard;
  LeakAnalysis analysis;
  with_roots_stopped(options.stop_other_threads, caller, [&](const RootScan& scan) {
    analysis.graph = HeapGraph::of_live_heap();
    Marker marker(analysis.graph);
    for (const RootRange& range : scan.roots.ranges) for_each_word(range.begin, range.bytes, [&](std::uintptr_t w) { marker.reach_from_word(w); });
    for (const ThreadRegisters& registers : scan.roots.registers)
      for (std::uintptr_t w : registers.values) marker.reach_from_word(w);
    marker.drain();
    analysis.threads_scanned = scan.threads_scanned;
    analysis.threads_unresponsive = scan.threads_unresponsive;
    analysis.exited_thread_descriptors = scan.roots.exited_thread_descriptors;
    analysis.anonymous_bytes_scanned = scan.roots.anonymous_bytes;
    analysis.stop_method = scan.stop_method;
    analysis.stop_fallback_reason = scan.stop_fallback_reason;
  });
  classify_unreachable(analysis);
  if (options.reachable_cycles) {
    const HeapGraph& graph = analysis.graph;
    const EdgeList edges = edges_among(graph, [&](std::uint32_t n) { return graph.state(n) == Reachability::Reachable; });
    for (FoundCycle& cycle : find_cycles(graph, edges)) {
      cycle.reachable = true;
      analysis.cycles.push_back(std::move(cycle));
    }
  }
  return analysis;
}

std::vector<Referrer> referrers_from(const CallerFrame& caller, const void* p) {
  RecursionGuard guard;
  std::vector<Referrer> referrers;
  const alloc::BlockInfo target = alloc::find_block(p);
  if (target.site == alloc::SiteTag::Free) return referrers;
  const auto begin = reinterpret_cast<std::uintptr_t>(target.address);
  const auto end = begin + (target.requested > 0 ? target.requested : 1);
  auto points_in = [&](std::uintptr_t word) { return word >= begin && word < end; };
  with_roots_stopped(true, caller, [&](const RootScan& scan) {
    const HeapGraph graph = HeapGraph::of_live_heap();
    for (const RootRange& range : scan.roots.ranges) {
      auto at = (reinterpret_cast<std::uintptr_t>(range.begin) + 7) & ~std::uintptr_t{7};
      for (const auto stop = reinterpret_cast<std::uintptr_t>(range.begin) + range.bytes; at + 8 <= stop; at += 8)
        if (points_in(*reinterpret_cast<const std::uintptr_t*>(at))) referrers.push_back({range.kind, at, 0, {}, range.where});
    }
    for (const ThreadRegisters& registers : scan.roots.registers)
      for (std::uintptr_t w : registers.values)
        if (points_in(w)) referrers.push_back({Referrer::Kind::Register, 0, 0, std::nullopt, registers.where});
    for (std::uint32_t n = 0; n < graph.nodes().size(); ++n) {
      const HeapNode& node = graph.nodes()[n];
      const auto base = reinterpret_cast<std::uintptr_t>(node.address);
      for (std::size_t offset = 0, size = node.size(); offset + 8 <= size; offset += 8)
        if (points_in(*reinterpret_cast<const std::uintptr_t*>(base + offset)))
          referrers.push_back({Referrer::Kind::Block, base + offset, base, std::nullopt, {}});
    }
  });
  return referrers;
}

}  // namespace heapsnap::collector
