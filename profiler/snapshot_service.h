#pragma once
// Snapshots on demand and on an interval, taken on a thread of heapsnap's own: a signal handler may
// only write a byte to a pipe, and building a snapshot inside a random program thread could wait on
// a lock that very thread holds.

#include <chrono>

namespace heapsnap {

struct SnapshotServiceConfig {
  int signal = 0;                          // 0: none; else a snapshot (with leak analysis) per delivery
  std::chrono::milliseconds interval{0};   // 0: none; else a snapshot every interval
  // Called on the service thread; `reason` is "signal" or "interval", `sequence` counts from 1.
  void (*take)(const char* reason, unsigned sequence) = nullptr;
};

// Starts the service thread (once per process). False with nothing started when the configuration
// asks for nothing or the thread or pipe cannot be made.
bool start_snapshot_service(const SnapshotServiceConfig& config) noexcept;
// In a forked child: the service thread did not survive fork; start a new one with the same config.
void restart_snapshot_service_after_fork() noexcept;

// The kernel thread id of the service thread, 0 when there is none. A stop-the-world leaves it
// running: it holds no pointer of the program's, and it blocks every signal.
int snapshot_service_thread_id() noexcept;

}  // namespace heapsnap
