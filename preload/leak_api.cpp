#include "preload/leak_api.h"

#include <stdexcept>

#include "collector/leak_findings.h"
#include "collector/reachability.h"
#include "runtime/recursion_guard.h"

namespace heapsnap {

namespace {

[[gnu::noinline]] Snapshot collect_leaks_from(const void* stack_low, const CollectOptions& options) {
  if (!is_tracing()) throw std::runtime_error("heapsnap::collect_leaks: tracing is not started");
  RecursionGuard guard;
  LeakFindings findings = collector::to_findings(
      collector::analyze_leaks_from({stack_low, {}}, {.stop_other_threads = true, .reachable_cycles = options.reachable_cycles}));
  return build_snapshot("api", &findings);
}

[[gnu::noinline]] std::vector<Referrer> referrers_from(const void* stack_low, const void* p) {
  RecursionGuard guard;
  std::vector<Referrer> referrers = collector::referrers_from({stack_low, {}}, p);
  for (Referrer& referrer : referrers)
    if (referrer.kind == Referrer::Kind::Block) referrer.traceback = traceback_of_block(reinterpret_cast<const void*>(referrer.block));
  return referrers;
}

}  // namespace

// Entry points: tiny frames, so the stack scan starts right at the program's own frames.
[[gnu::noinline]] Snapshot collect_leaks(const CollectOptions& options) {
  HEAPSNAP_SCAN_ENTRY(stack_low);
  return collect_leaks_from(stack_low, options);
}

[[gnu::noinline]] std::vector<Referrer> get_referrers(const void* p) {
  HEAPSNAP_SCAN_ENTRY(stack_low);
  return referrers_from(stack_low, p);
}


}  // namespace heapsnap
