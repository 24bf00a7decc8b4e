#pragma once
// The in-process runtime of libheapsnap_preload.so: configuration from the environment, fork
// handling, and the snapshot written at exit. Environment (set by `heapsnap run`):
//   HEAPSNAP_OUTPUT    snapshot path written at exit ("%p" is replaced by the pid)
//   HEAPSNAP_ROOT_PID  the process that writes exactly HEAPSNAP_OUTPUT; others insert ".<pid>"
//   HEAPSNAP_DEPTH     frames per allocation, 1..128 (default 16)
//   HEAPSNAP_START     1: trace from load (default when HEAPSNAP_OUTPUT is set), 0: wait for start()
//   HEAPSNAP_LEAKS     1: classify leaks by reachability at exit (default), 0: report live blocks
//   HEAPSNAP_SNAPSHOT_SIGNAL  USR1, USR2 or a number: a leak-analysed snapshot per delivery
//   HEAPSNAP_INTERVAL_MS      a snapshot every N milliseconds (numbered NAME.snap-<n>.json)
//   HEAPSNAP_REACHABLE_CYCLES 1: leak analyses also list reference cycles that are still reachable
//   HEAPSNAP_UNWIND    cached (default), fp (frame pointers; only for programs built with them), dwarf
//   HEAPSNAP_SAMPLE_BYTES     0 (default): trace every allocation; N: sample one per N bytes on average
//   HEAPSNAP_SNAPSHOT_FORMAT  json (default) or cbor: the encoding of the snapshot files written

#include "profiler/snapshot_builder.h"

namespace heapsnap {

// A leak analysis the runtime runs at exit: it classifies every live block and finds the cycles
// among the unreachable ones (and among the reachable ones too, when asked). Registered by the
// collector when it is linked in.
using LeakAnalysis = LeakFindings (*)(bool reachable_cycles);
void set_exit_leak_analysis(LeakAnalysis analysis) noexcept;

// For a program ending through _exit or _Exit, which run no destructor: writes the exit snapshot
// first (reason "_exit"), unless this is a vfork child or the calling thread was inside heapsnap.
void write_snapshot_at_immediate_exit() noexcept;

}  // namespace heapsnap
