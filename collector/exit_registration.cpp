// Links the collector into the preload runtime: the exit snapshot classifies leaks by reachability.

#include <memory>

#include "collector/reachability.h"
#include "profiler/runtime.h"

namespace {

heapsnap::BlockClassifier analyze_at_exit() {
  auto result = std::make_shared<heapsnap::collector::ReachabilityResult>(heapsnap::collector::analyze_reachability());
  return [result](const heapsnap::alloc::BlockInfo& block) { return result->of(block.address); };
}

[[gnu::constructor]] void register_exit_analysis() noexcept { heapsnap::set_exit_leak_analysis(analyze_at_exit); }

}  // namespace
