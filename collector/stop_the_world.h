#pragma once
// Signal-based stop-the-world, for scanning other threads' stacks and registers (ptrace is often
// unavailable in containers, and would need a second process). Every other thread of the process is
// sent kStopSignal; its handler records the interrupted registers and stack pointer, then waits on a
// futex until the world resumes. No lock is taken and nothing is allocated in the handler.

#include <sys/types.h>
#include <sys/ucontext.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace heapsnap::collector {

struct StoppedThread {
  pid_t tid = 0;
  std::atomic<bool> stopped{false};   // the handler ran and captured the state below
  std::uintptr_t stack_pointer = 0;   // where the interrupted code's stack ends (its red zone below)
  std::uintptr_t thread_pointer = 0;  // the thread's TLS/TCB base (fs on x86-64)
  gregset_t registers{};              // the interrupted general-purpose registers
};

// While alive, every other thread of the process is stopped (or counted as unresponsive when it
// does not answer in time, e.g. because it blocks the signal). The destructor resumes them.
class WorldStop {
 public:
  WorldStop();
  ~WorldStop();
  WorldStop(const WorldStop&) = delete;
  WorldStop& operator=(const WorldStop&) = delete;

  // Threads that answered: their registers and stacks can be scanned.
  const std::vector<StoppedThread*>& stopped() const { return stopped_; }
  // Threads that did not answer within the timeout; their stacks cannot be scanned.
  std::size_t unresponsive() const { return unresponsive_; }

 private:
  std::vector<StoppedThread> slots_;
  std::vector<StoppedThread*> stopped_;
  std::size_t unresponsive_ = 0;
  std::size_t signalled_ = 0;
};

}  // namespace heapsnap::collector
