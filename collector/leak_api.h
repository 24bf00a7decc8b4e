#pragma once
// The collector's in-process API: leak analysis on demand, and who points to a block.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "profiler/api.h"

namespace heapsnap {

struct CollectOptions {
  bool reachable_cycles = false;  // also list reference cycles that are still reachable
};

// Stops the other threads, classifies every live traced block as reachable or leaked (direct,
// indirect, member of a cycle), and returns the snapshot, cycles included. Requires tracing; throws
// std::runtime_error otherwise.
HEAPSNAP_API Snapshot collect_leaks(const CollectOptions& options = {});

// One place that holds a pointer into a block, like an entry of gc.get_referrers().
struct Referrer {
  enum class Kind { Block, Global, Stack, Register, ThreadLocal, Mapping };
  Kind kind;
  std::uintptr_t holder = 0;             // address of the word holding the pointer (0 for a register)
  std::uintptr_t block = 0;              // Kind::Block: the referring block's start
  std::optional<Traceback> traceback;    // Kind::Block: where the referring block was allocated, if traced
  std::string where;                     // Global: the module; Stack/Register/ThreadLocal: "thread <tid>";
                                         // Mapping (anonymous memory: pools, arenas, JIT heaps): its address range
};

// Every block and root that points into the live block holding `p` (empty when `p` is not in one).
HEAPSNAP_API std::vector<Referrer> get_referrers(const void* p);

}  // namespace heapsnap
