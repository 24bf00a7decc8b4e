// Links the collector into the preload runtime: the exit snapshot classifies leaks by reachability
// and reports reference cycles.

#include <unistd.h>

#include "collector/leak_findings.h"
#include "preload/runtime.h"
#include "runtime/exit_frame.h"

namespace {

// The exiting thread is scanned from where it began to end the process (exit called, main returned:
// runtime/exit_frame.h), not from here: the frames in between are exit's and dead ones. Snapshots
// taken elsewhere (a signal's, on heapsnap's own thread) start at this entry point.
[[gnu::noinline]] heapsnap::LeakFindings analyze_at_exit(bool reachable_cycles) {
  HEAPSNAP_SCAN_ENTRY(stack_low);
  heapsnap::collector::CallerFrame caller{stack_low, {}};
  if (const std::optional<heapsnap::ExitFrame> frame = heapsnap::exit_frame_of(gettid())) {
    caller.stack_low = reinterpret_cast<const void*>(frame->stack_from);
    if (frame->has_registers) caller.registers.assign(std::begin(frame->callee_saved), std::end(frame->callee_saved));
  }
  return heapsnap::collector::to_findings(
      heapsnap::collector::analyze_leaks_from(caller, {.stop_other_threads = true, .reachable_cycles = reachable_cycles}));
}

[[gnu::constructor]] void register_exit_analysis() noexcept { heapsnap::set_exit_leak_analysis(analyze_at_exit); }

}  // namespace
