// Links the collector into the preload runtime: the exit snapshot classifies leaks by reachability
// and reports reference cycles.

#include "collector/leak_findings.h"
#include "profiler/runtime.h"

namespace {

[[gnu::noinline]] heapsnap::LeakFindings analyze_at_exit(bool reachable_cycles) {
  HEAPSNAP_SCAN_ENTRY(stack_low);
  return heapsnap::collector::to_findings(
      heapsnap::collector::analyze_leaks_from(stack_low, {.stop_other_threads = true, .reachable_cycles = reachable_cycles}));
}

[[gnu::constructor]] void register_exit_analysis() noexcept { heapsnap::set_exit_leak_analysis(analyze_at_exit); }

}  // namespace
