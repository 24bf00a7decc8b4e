#pragma once
// The in-process runtime of libheapsnap_preload.so: configuration from the environment (the variables
// of preload/environment.h, set by `heapsnap run`), fork handling, and the snapshot written at exit.

#include <string>

#include "runtime/snapshot_builder.h"

namespace heapsnap {

// A leak analysis the runtime runs at exit: it classifies every live block and finds the cycles
// among the unreachable ones (and among the reachable ones too, when asked). Registered by the
// collector when it is linked in.
using ExitLeakAnalysis = LeakFindings (*)(bool reachable_cycles);
void set_exit_leak_analysis(ExitLeakAnalysis analysis) noexcept;

// "heapsnap: MESSAGE" on the program's standard error, written at once (no stdio buffer, no lock).
void say(const std::string& message) noexcept;

// For a program ending through _exit or _Exit, which run no destructor: writes the exit snapshot
// first (reason "_exit"), unless this is a vfork child or the calling thread was inside heapsnap.
void write_snapshot_at_immediate_exit() noexcept;

// In a forked child that is not followed (HEAPSNAP_FOLLOW_CHILDREN=0): stops tracing without
// dropping the traces inherited from the parent, which stop() would do by visiting every block (and
// copying every page of block tags from the parent, for a child that mostly calls exec next). They are
// dropped if tracing starts again.
void stop_tracing_in_child() noexcept;

}  // namespace heapsnap
