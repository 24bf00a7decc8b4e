#pragma once
// One place that holds a pointer into a block, like an entry of gc.get_referrers(): what the
// collector finds (collector/reachability.h) and what heapsnap::get_referrers returns (preload/leak_api.h).

#include <cstdint>
#include <optional>
#include <string>

#include "snapshot/traceback.h"

namespace heapsnap {

struct Referrer {
  enum class Kind { Block, Global, Stack, Register, ThreadLocal, Mapping };
  Kind kind;
  std::uintptr_t holder = 0;             // address of the word holding the pointer (0 for a register)
  std::uintptr_t block = 0;              // Kind::Block: the referring block's start
  std::optional<Traceback> traceback;    // Kind::Block: where the referring block was allocated, if traced
                                         // (filled in by get_referrers; the collector leaves it empty)
  std::string where;                     // Global: the module; Stack/Register/ThreadLocal: "thread <tid>";
                                         // Mapping (anonymous memory: pools, arenas, JIT heaps): its address range
};

}  // namespace heapsnap
