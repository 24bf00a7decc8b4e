#pragma once
// Snapshots on demand and on an interval, taken on a thread of heapsnap's own: a signal handler may
// only set a flag and wake that thread (a futex: heapsnap keeps no file descriptor), and building a
// snapshot inside a random program thread could wait on a lock that very thread holds.

#include <signal.h>

#include <chrono>

namespace heapsnap {

struct SnapshotServiceConfig {
  int signal = 0;                          // 0: none; else a snapshot (with leak analysis) per delivery
  std::chrono::milliseconds interval{0};   // 0: none; else a snapshot every interval
  // Called on the service thread; `reason` is "signal" or "interval", `sequence` counts from 1.
  void (*take)(const char* reason, unsigned sequence) = nullptr;
  // When set, SIGTERM, SIGINT and SIGHUP, if the program has not taken them over, end the program
  // only after this has written its final snapshot (called on the service thread with the signal's
  // name as the reason, e.g. "SIGTERM"); then the signal's default action ends it as it would have.
  void (*take_final)(const char* reason) = nullptr;
};

// Starts the service thread (once per process), without waiting for it to run. False with nothing
// started when the configuration asks for nothing or the thread cannot be made.
bool start_snapshot_service(const SnapshotServiceConfig& config) noexcept;
// In a forked child: the service thread did not survive fork; start a new one with the same config.
void restart_snapshot_service_after_fork() noexcept;

// sigaction as the program sees it while heapsnap stands in for the default action of SIGTERM, SIGINT
// and SIGHUP (see take_final): setting SIG_DFL keeps heapsnap's handler, which ends the program as the
// default would; reading reports SIG_DFL; any other handler or SIG_IGN replaces heapsnap's. Other
// signals, and all of them without take_final, go straight to the C library.
int program_sigaction(int signal, const struct sigaction* action, struct sigaction* previous) noexcept;

// The kernel thread id of the service thread, 0 when there is none; waits for a thread that was
// started but has not run yet to publish it. A stop-the-world leaves it running: it holds no pointer
// of the program's, and it blocks every signal. Not for a signal handler of a thread the service
// thread may be waiting on.
int snapshot_service_thread_id() noexcept;

}  // namespace heapsnap
