#include "collector/stop_the_world.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "collector/ptrace_stop.h"
#include "collector/signal_stop.h"
#include "collector/thread_list.h"
#include "runtime/snapshot_service.h"

namespace heapsnap::collector {
namespace {

// One stop at a time: a second analysing thread waits here rather than racing the first's tracer or
// handlers (and is itself stopped meanwhile, which is harmless: it holds nothing the scan needs).
std::mutex g_one_stop_at_a_time;

// HEAPSNAP_STOP_METHOD=ptrace|signals; anything else (or unset) means the default, ptrace.
StopMethod requested_method() {
  const char* value = std::getenv("HEAPSNAP_STOP_METHOD");
  return value != nullptr && std::strcmp(value, "signals") == 0 ? StopMethod::Signals : StopMethod::Ptrace;
}

}  // namespace

WorldStop::WorldStop() {
  g_one_stop_at_a_time.lock();
  const auto caller = static_cast<pid_t>(syscall(SYS_gettid));
  const auto service = static_cast<pid_t>(snapshot_service_thread_id());
  // Alone (the usual exit of a single-threaded program): nothing to stop, and no thread can appear
  // meanwhile, since only a running thread could create one. Saves a tracer task per process exit.
  if (list_other_threads(caller, service).empty()) return;
  if (requested_method() == StopMethod::Ptrace) {
    ptrace_ = std::make_unique<PtraceStop>(caller, service);
    if (ptrace_->stopped_world()) {
      method_ = StopMethod::Ptrace;
      for (StoppedThread& thread : ptrace_->threads()) stopped_.push_back(&thread);
      return;
    }
    fallback_reason_ = ptrace_->failure();
    ptrace_.reset();  // nothing stays stopped, the tracer is reaped
  } else {
    fallback_reason_ = "HEAPSNAP_STOP_METHOD=signals";
  }
  signals_ = std::make_unique<SignalStop>(caller, service);
  method_ = StopMethod::Signals;
  stopped_ = signals_->stopped();
  unresponsive_ = signals_->unresponsive();
}

WorldStop::~WorldStop() {
  ptrace_.reset();
  signals_.reset();
  g_one_stop_at_a_time.unlock();
}

}  // namespace heapsnap::collector
