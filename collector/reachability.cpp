#include "collector/reachability.h"

#include <link.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <functional>

#include "allocator/segment_map.h"
#include "collector/memory_map.h"
#include "collector/stop_the_world.h"
#include "profiler/recursion_guard.h"

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

struct RootRange {
  const void* begin;
  std::size_t bytes;
  Referrer::Kind kind;
  std::string where;
};

int collect_module_roots(dl_phdr_info* info, std::size_t, void* data) {
  auto& roots = *static_cast<std::vector<RootRange>*>(data);
  const std::string module = info->dlpi_name != nullptr && *info->dlpi_name != '\0' ? info->dlpi_name : "<main program>";
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_W) != 0)
      roots.push_back({reinterpret_cast<const void*>(info->dlpi_addr + segment.p_vaddr), segment.p_memsz, Referrer::Kind::Global, module});
    else if (segment.p_type == PT_TLS && info->dlpi_tls_data != nullptr)
      roots.push_back({info->dlpi_tls_data, segment.p_memsz, Referrer::Kind::ThreadLocal, "calling thread"});
  }
  return 0;
}

std::string thread_name(pid_t tid) { return "thread " + std::to_string(tid); }

// A thread's stack from `low` to the end of its mapping; glibc keeps a thread's static TLS at the top
// of that mapping, so this covers it too.
void add_stack(std::vector<RootRange>& roots, const MemoryMap& map, std::uintptr_t low, pid_t tid) {
  const MemoryRegion* region = map.region_containing(low);
  if (region == nullptr) return;
  roots.push_back({reinterpret_cast<const void*>(low), region->end - low, Referrer::Kind::Stack, thread_name(tid)});
}

// A thread's TLS block when it is not inside its stack mapping (the main thread's, which the dynamic
// loader allocates on its own), unless that region is heapsnap's arena.
void add_thread_pointer_region(std::vector<RootRange>& roots, const MemoryMap& map, std::uintptr_t thread_pointer,
                               std::uintptr_t stack_pointer, pid_t tid) {
  const MemoryRegion* tls = map.region_containing(thread_pointer);
  if (tls == nullptr || tls == map.region_containing(stack_pointer) || !tls->writable) return;
  if (alloc::segment_of(reinterpret_cast<const void*>(tls->start)) != nullptr) return;
  roots.push_back({reinterpret_cast<const void*>(tls->start), tls->end - tls->start, Referrer::Kind::ThreadLocal, thread_name(tid)});
}

// Gathers every root while the world is stopped (when asked), then hands them to `scan`.
struct RootScan {
  std::vector<RootRange> ranges;
  std::vector<std::pair<std::vector<std::uintptr_t>, std::string>> registers;  // per thread
  std::size_t threads_scanned = 0;
  std::size_t threads_unresponsive = 0;
  StopMethod stop_method = StopMethod::None;
  std::string stop_fallback_reason;
};

// The calling thread's stack is scanned from `own_stack_low` up, where the entry point (below)
// pushed the callee-saved registers, so they need no separate capture.
template <typename WithRoots>
void with_roots_stopped(bool stop_other_threads, const void* own_stack_low, WithRoots&& with_roots) {
  RootScan roots;
  // Module ranges first, before any thread stops: dl_iterate_phdr takes the loader's lock, which a
  // stopped thread could be holding.
  dl_iterate_phdr(collect_module_roots, &roots.ranges);
  const pid_t own_tid = static_cast<pid_t>(syscall(SYS_gettid));

  std::optional<WorldStop> world;
  if (stop_other_threads) world.emplace();
  const MemoryMap map = MemoryMap::of_this_process();
  add_stack(roots.ranges, map, reinterpret_cast<std::uintptr_t>(own_stack_low), own_tid);
  roots.threads_scanned = 1;
  if (world) {
    for (const StoppedThread* thread : world->stopped()) {
      const bool in_system_call = stopped_in_system_call(*thread, map);
      add_stack(roots.ranges, map, thread->stack_pointer - (in_system_call ? 0 : kRedZone), thread->tid);
      add_thread_pointer_region(roots.ranges, map, thread->thread_pointer, thread->stack_pointer, thread->tid);
      roots.registers.emplace_back(live_registers(*thread, in_system_call),
                                   thread_name(thread->tid));
    }
    roots.threads_scanned += world->stopped().size();
    roots.threads_unresponsive = world->unresponsive();
    roots.stop_method = world->method();
    roots.stop_fallback_reason = world->fallback_reason();
  }
  with_roots(roots);  // still stopped: the other threads cannot change what is being scanned
}

class Marker {
 public:
  explicit Marker(HeapGraph& graph) : graph_(graph) {}

  void reach_from_word(std::uintptr_t word) {
    const auto node = graph_.node_at(word);
    if (!node || graph_.nodes()[*node].state == Reachability::Reachable) return;
    graph_.nodes()[*node].state = Reachability::Reachable;
    work_.push_back(*node);
  }
  void drain() {  // iterative: a 100k-node list must not overflow the stack
    while (!work_.empty()) {
      const std::uint32_t node = work_.back();
      work_.pop_back();
      graph_.for_each_edge(node, [&](std::size_t, std::uint32_t target) {
        if (graph_.nodes()[target].state == Reachability::Reachable) return;
        graph_.nodes()[target].state = Reachability::Reachable;
        work_.push_back(target);
      });
    }
  }

 private:
  HeapGraph& graph_;
  std::vector<std::uint32_t> work_;
};

void classify_unreachable(LeakAnalysis& analysis) {
  auto& nodes = analysis.graph.nodes();
  auto unreachable = [&](std::uint32_t n) { return nodes[n].state != Reachability::Reachable; };
  analysis.cycles = find_cycles(analysis.graph, unreachable);
  for (const FoundCycle& cycle : analysis.cycles)
    for (std::uint32_t member : cycle.members) nodes[member].state = Reachability::Cycle;
  for (std::uint32_t n = 0; n < nodes.size(); ++n) {
    if (!unreachable(n)) continue;
    analysis.graph.for_each_edge(n, [&](std::size_t, std::uint32_t target) {
      if (target != n && nodes[target].state == Reachability::Direct) nodes[target].state = Reachability::Indirect;
    });
  }
}

}  // namespace

// Everything below allocates as heapsnap (RecursionGuard): the graph's own buffers must not become
// nodes of the graph. The heap is walked while the world is stopped: a thread that moved its
// pointers between the walk and the stop would otherwise hide blocks behind ones the walk never saw.
LeakAnalysis analyze_leaks_from(const void* own_stack_low, const LeakAnalysisOptions& options) {
  RecursionGuard guard;
  LeakAnalysis analysis;
  with_roots_stopped(options.stop_other_threads, own_stack_low, [&](const RootScan& roots) {
    analysis.graph = HeapGraph::of_live_heap();
    Marker marker(analysis.graph);
    for (const RootRange& range : roots.ranges) for_each_word(range.begin, range.bytes, [&](std::uintptr_t w) { marker.reach_from_word(w); });
    for (const auto& [registers, thread] : roots.registers)
      for (std::uintptr_t w : registers) marker.reach_from_word(w);
    marker.drain();
    analysis.threads_scanned = roots.threads_scanned;
    analysis.threads_unresponsive = roots.threads_unresponsive;
    analysis.stop_method = roots.stop_method;
    analysis.stop_fallback_reason = roots.stop_fallback_reason;
  });
  classify_unreachable(analysis);
  if (options.reachable_cycles) {
    auto& nodes = analysis.graph.nodes();
    for (FoundCycle& cycle : find_cycles(analysis.graph, [&](std::uint32_t n) { return nodes[n].state == Reachability::Reachable; })) {
      cycle.reachable = true;
      analysis.cycles.push_back(std::move(cycle));
    }
  }
  return analysis;
}

std::vector<Referrer> referrers_from(const void* own_stack_low, const void* p) {
  RecursionGuard guard;
  std::vector<Referrer> referrers;
  const alloc::BlockInfo target = alloc::find_block(p);
  if (target.site == alloc::SiteTag::Free) return referrers;
  const auto begin = reinterpret_cast<std::uintptr_t>(target.address);
  const auto end = begin + (target.requested > 0 ? target.requested : 1);
  auto points_in = [&](std::uintptr_t word) { return word >= begin && word < end; };
  with_roots_stopped(true, own_stack_low, [&](const RootScan& roots) {
    const HeapGraph graph = HeapGraph::of_live_heap();
    for (const RootRange& range : roots.ranges) {
      auto at = (reinterpret_cast<std::uintptr_t>(range.begin) + 7) & ~std::uintptr_t{7};
      for (const auto stop = reinterpret_cast<std::uintptr_t>(range.begin) + range.bytes; at + 8 <= stop; at += 8)
        if (points_in(*reinterpret_cast<const std::uintptr_t*>(at))) referrers.push_back({range.kind, at, 0, {}, range.where});
    }
    for (const auto& [registers, thread] : roots.registers)
      for (std::uintptr_t w : registers)
        if (points_in(w)) referrers.push_back({Referrer::Kind::Register, 0, 0, {}, thread});
    for (std::uint32_t n = 0; n < graph.nodes().size(); ++n) {
      const HeapNode& node = graph.nodes()[n];
      const auto base = reinterpret_cast<std::uintptr_t>(node.address);
      for (std::size_t offset = 0; offset + 8 <= node.size; offset += 8)
        if (points_in(*reinterpret_cast<const std::uintptr_t*>(base + offset)))
          referrers.push_back({Referrer::Kind::Block, base + offset, base, node.site, {}});
    }
  });
  return referrers;
}

}  // namespace heapsnap::collector
