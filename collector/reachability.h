#pragma once
// Conservative reachability over the arena heap, as LeakSanitizer does it: every aligned word of the
// roots that holds the address of (or into) a live block keeps that block alive, and so on through
// the blocks' contents. Unreachable blocks are leaks: "direct" when no other unreachable block points
// to them, "indirect" otherwise.
//
// Roots: writable segments and TLS of every loaded module (dl_iterate_phdr) and the calling thread's
// stack and registers above the analysis. Other threads are not stopped or scanned yet, and cycles are
// not yet told apart from indirect leaks (see the collector issue).

#include <cstdint>
#include <unordered_map>

#include "allocator/allocator.h"
#include "profiler/snapshot.h"

namespace heapsnap::collector {

class ReachabilityResult {
 public:
  Reachability of(const void* block_start) const;
  std::size_t blocks() const { return state_.size(); }

 private:
  friend ReachabilityResult analyze_reachability();
  std::unordered_map<const void*, Reachability> state_;
};

// Classifies every live block that is not heapsnap's own. Call it from a frame above any local that
// holds a heap address you do not want counted as a root.
ReachabilityResult analyze_reachability();

}  // namespace heapsnap::collector
