#pragma once
// Return address -> source frames, once per distinct address: Boost.Stacktrace's libbacktrace state
// answers, with every inlined call expanded (innermost first), so a leak in an inlined helper or
// lambda is reported at its own line rather than at the line of the function it was inlined into.
// Slow by nature; called when a snapshot is built, never on the allocation path.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "profiler/frame.h"

namespace heapsnap {

class Symbolizer {
 public:
  // `return_address` is what the unwinder saw; the call instruction is one byte before it.
  // Never empty.
  const std::vector<Frame>& frames_for(std::uintptr_t return_address);

 private:
  std::unordered_map<std::uintptr_t, std::vector<Frame>> cache_;
};

}  // namespace heapsnap
