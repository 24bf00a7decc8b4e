#pragma once
// Stop-the-world by signals, the fallback when ptrace is not permitted: every other thread is sent
// kStopSignal; its handler records the interrupted registers and stack pointer, then waits on a futex
// until the world resumes. No lock is taken and nothing is allocated in the handler. A thread that
// blocks the signal (/proc/self/task/<tid>/status: SigBlk) is counted unresponsive without waiting
// for it; one that does not answer within a timeout too.

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "collector/stop_the_world.h"

namespace heapsnap::collector {

class SignalStop {
 public:
  // Stops every thread of the process but `caller` and `also_running` (heapsnap's service thread).
  SignalStop(pid_t caller, pid_t also_running);
  ~SignalStop();  // resumes them
  SignalStop(const SignalStop&) = delete;
  SignalStop& operator=(const SignalStop&) = delete;

  const std::vector<StoppedThread*>& stopped() const { return stopped_; }
  std::size_t unresponsive() const { return unresponsive_; }

 private:
  std::vector<StoppedThread> slots_;
  std::vector<StoppedThread*> stopped_;
  std::size_t unresponsive_ = 0;
  std::size_t signalled_ = 0;
};

}  // namespace heapsnap::collector
