#pragma once
// The environment contract between `heapsnap run` (cli/cmd_run.cpp), which sets these variables, and
// libheapsnap_preload.so (preload/preload_runtime.cpp), which reads them at load. Both spell the names
// from here. Documented for users in docs/cli.md ("Environment"). Two more variables are not part of
// the contract: HEAPSNAP_PRELOAD (read by the cli alone: which library to preload) and
// HEAPSNAP_STOP_METHOD (read by the collector alone, passed through: collector/stop_the_world.cpp).

#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace heapsnap::environment {

// Snapshot path written at exit ("%p" is replaced by the pid).
inline constexpr const char* kOutput = "HEAPSNAP_OUTPUT";
// The process that writes exactly kOutput; other processes (children) insert ".<pid>".
inline constexpr const char* kRootPid = "HEAPSNAP_ROOT_PID";
// Frames per allocation, 1..128 (default 16).
inline constexpr const char* kDepth = "HEAPSNAP_DEPTH";
// 1: trace from load (the default when kOutput is set); 0: load the allocator only, wait for start().
inline constexpr const char* kStart = "HEAPSNAP_START";
// 1: classify leaks by reachability at exit (default); 0: every live block counts as leaked.
inline constexpr const char* kLeaks = "HEAPSNAP_LEAKS";
// 1: leak analyses also list reference cycles that are still reachable.
inline constexpr const char* kReachableCycles = "HEAPSNAP_REACHABLE_CYCLES";
// USR1, USR2 or a number: a leak-analysed snapshot per delivery of that signal.
inline constexpr const char* kSnapshotSignal = "HEAPSNAP_SNAPSHOT_SIGNAL";
// A snapshot every N milliseconds (numbered NAME.snap-<n>.json).
inline constexpr const char* kIntervalMs = "HEAPSNAP_INTERVAL_MS";
// 0 (default): trace every allocation; N: sample one allocation per N bytes on average.
inline constexpr const char* kSampleBytes = "HEAPSNAP_SAMPLE_BYTES";
// cached (default), fp (frame pointers; programs built with them), dwarf.
inline constexpr const char* kUnwind = "HEAPSNAP_UNWIND";
// 1 (default): child processes are profiled too, each writing its own snapshot; 0: only the process
// kRootPid names (and what it execs); its children run dormant, on heapsnap's allocator untraced.
inline constexpr const char* kFollowChildren = "HEAPSNAP_FOLLOW_CHILDREN";
// json (default) or cbor: the encoding of the snapshot files written.
inline constexpr const char* kSnapshotFormat = "HEAPSNAP_SNAPSHOT_FORMAT";
// 1: open the control socket that `heapsnap ctl` talks to (the default when kStart is set to 0: a
// dormant process is started from outside); 0: none.
inline constexpr const char* kControl = "HEAPSNAP_CONTROL";

// Where the control sockets of the calling user's processes are: $XDG_RUNTIME_DIR/heapsnap when that
// is set (systemd's per-user directory, mode 0700), else /tmp/heapsnap-<uid>. A process's socket is
// <directory>/<pid>.sock. Both `heapsnap ctl` and the preload library compute it here.
inline std::string control_socket_directory() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') return std::string(runtime) + "/heapsnap";
  return "/tmp/heapsnap-" + std::to_string(getuid());
}
inline std::string control_socket_path(pid_t pid) { return control_socket_directory() + "/" + std::to_string(pid) + ".sock"; }

}  // namespace heapsnap::environment
