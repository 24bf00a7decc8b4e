#pragma once
// Stop-the-world by ptrace, as LeakSanitizer does it: the analysing thread clones a tracer task that
// shares its memory but is a process of its own; the tracer seizes and interrupts every other thread,
// reads their registers into memory the caller prepared, and detaches when told to resume. Signals
// the program blocks do not matter, and the tracer touches none of the program's heap or locks.
// x86-64 only; elsewhere it always fails, and the caller falls back to signals.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "collector/stop_the_world.h"

namespace heapsnap::collector {

struct TracerChannel;

class PtraceStop {
 public:
  // Stops every thread of the process but `caller` and `also_running` (heapsnap's service thread;
  // 0 for none). On failure nothing stays stopped and failure() says why.
  PtraceStop(pid_t caller, pid_t also_running);
  ~PtraceStop();  // resumes the threads and reaps the tracer
  PtraceStop(const PtraceStop&) = delete;
  PtraceStop& operator=(const PtraceStop&) = delete;

  bool stopped_world() const { return channel_ != nullptr && failure_.empty(); }
  const std::string& failure() const { return failure_; }
  std::vector<StoppedThread>& threads() { return threads_; }

 private:
  void fail(std::string reason);
  void reap_tracer();
  void release_memory();

  TracerChannel* channel_ = nullptr;  // shared with the tracer: mmap'ed, never the program's heap
  std::size_t channel_bytes_ = 0;
  void* tracer_stack_ = nullptr;
  pid_t tracer_ = -1;
  std::string failure_;
  std::vector<StoppedThread> threads_;
};

}  // namespace heapsnap::collector
