#pragma once
// Conservative reachability over the arena heap, as LeakSanitizer does it, plus what no peer
// reports: reference cycles as cycles.
//
// Roots: root_set.h lists them (module globals, live stacks and registers, exited threads'
// descriptors, anonymous memory). Other threads are stopped for the scan (stop_the_world.h). Every aligned word of the
// roots that holds the address of (or into) a live block keeps that block alive, transitively.
// Unreachable blocks are leaks:
//   cycle     member of an unreachable reference cycle (a strongly connected component);
//   indirect  pointed to by another unreachable block;
//   direct    pointed to by no other unreachable block.

#include <cstdint>
#include <string>
#include <vector>

#include "collector/cycles.h"
#include "collector/heap_graph.h"
#include "collector/referrer.h"
#include "snapshot/snapshot.h"

namespace heapsnap::collector {

struct LeakAnalysisOptions {
  bool stop_other_threads = true;
  bool reachable_cycles = false;  // also find cycles that are still reachable (slower: the whole graph)
};

struct LeakAnalysis {
  HeapGraph graph;                  // every node carries its Reachability
  std::vector<FoundCycle> cycles;   // unreachable ones, then reachable ones when asked for
  std::size_t threads_scanned = 0;  // including the calling thread
  std::size_t threads_unresponsive = 0;
  std::size_t exited_thread_descriptors = 0;  // of glibc's cached stacks, scanned as roots
  std::size_t anonymous_bytes_scanned = 0;    // resident anonymous memory scanned as roots
  StopMethod stop_method = StopMethod::None;  // how the other threads were stopped
  std::string stop_fallback_reason;            // why signals rather than ptrace ("" otherwise)
};

// Where the calling thread's live stack begins. `registers`: the values its callee-saved registers
// held there, when they are not saved on the stack above stack_low (see HEAPSNAP_SCAN_ENTRY).
struct CallerFrame {
  const void* stack_low = nullptr;
  std::vector<std::uintptr_t> registers;
};

// The calling thread's stack is scanned from caller.stack_low up. Call these from an entry point that
// has just pushed its callee-saved registers and passes its own stack pointer (HEAPSNAP_SCAN_ENTRY),
// or with the frame where the thread began to end the process (runtime/exit_frame.h): the caller's
// register-held pointers are then seen, while the frames of the analysis itself (which hold block
// addresses the program never had) are not.
LeakAnalysis analyze_leaks_from(const CallerFrame& caller, const LeakAnalysisOptions& options = {});

// Every block and root that points into the live block holding `p` (tracebacks left empty).
std::vector<Referrer> referrers_from(const CallerFrame& caller, const void* p);

// The stack pointer of the calling frame after __builtin_unwind_init has saved every callee-saved
// register into it. Use at the top of a [[gnu::noinline]] entry point with no other locals.
#if defined(__x86_64__)
#define HEAPSNAP_SCAN_ENTRY(stack_low)            \
  __builtin_unwind_init();                        \
  const void* stack_low = nullptr;                \
  asm volatile("mov %%rsp, %0" : "=r"(stack_low))
#else
#define HEAPSNAP_SCAN_ENTRY(stack_low) \
  __builtin_unwind_init();             \
  const void* stack_low = __builtin_frame_address(0)
#endif

}  // namespace heapsnap::collector
