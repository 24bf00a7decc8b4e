#pragma once
// Stops every other thread of the process for the leak scan (docs/stop-the-world.md).
//
// The default is ptrace (ptrace_stop.h): a tracer task attaches to every thread from outside, as
// LeakSanitizer does, so a thread that blocks every signal is stopped and scanned like any other.
// When ptrace is not permitted (yama, seccomp, a debugger already attached...) or on architectures
// other than x86-64, each thread is sent a signal instead (signal_stop.h); a thread that blocks it is
// counted unscanned. HEAPSNAP_STOP_METHOD=ptrace|signals chooses explicitly.

#include <sys/types.h>
#include <sys/ucontext.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap::collector {

struct StoppedThread {
  pid_t tid = 0;
  std::atomic<bool> stopped{false};   // its state below is captured (the signal handler sets it last)
  std::uintptr_t stack_pointer = 0;   // where the interrupted code's stack ends (its red zone below)
  std::uintptr_t thread_pointer = 0;  // the thread's TLS/TCB base (fs on x86-64)
  gregset_t registers{};              // the interrupted general-purpose registers, ucontext layout
};

class PtraceStop;
class SignalStop;

// While alive, every other thread of the process but heapsnap's service thread is stopped, or
// counted unresponsive when it could not be. The destructor resumes them.
class WorldStop {
 public:
  WorldStop();
  ~WorldStop();
  WorldStop(const WorldStop&) = delete;
  WorldStop& operator=(const WorldStop&) = delete;

  // Threads that are stopped: their registers and stacks can be scanned.
  const std::vector<StoppedThread*>& stopped() const { return stopped_; }
  // Threads that could not be stopped; their stacks and registers cannot be scanned.
  std::size_t unresponsive() const { return unresponsive_; }
  StopMethod method() const { return method_; }
  // Why the signals were used rather than ptrace ("" with ptrace).
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  std::unique_ptr<PtraceStop> ptrace_;
  std::unique_ptr<SignalStop> signals_;
  std::vector<StoppedThread*> stopped_;
  std::size_t unresponsive_ = 0;
  StopMethod method_ = StopMethod::None;
  std::string fallback_reason_;
};

}  // namespace heapsnap::collector
