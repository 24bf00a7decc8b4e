#include "profiler/snapshot_service.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "profiler/recursion_guard.h"
#include "profiler/signal_chain.h"

namespace heapsnap {
namespace {

SnapshotServiceConfig g_config;
int g_wake_pipe[2] = {-1, -1};
std::atomic<int> g_service_tid{0};
struct sigaction g_program_action;  // the program's handler for our signal, chained to

void on_snapshot_signal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  const char byte = 's';
  [[maybe_unused]] ssize_t ignored = write(g_wake_pipe[1], &byte, 1);  // async-signal-safe, non-blocking
  pass_on_to_program(g_program_action, signal, info, context);
  errno = saved_errno;
}

void* serve(void*) {
  tl_inside_heapsnap = true;  // everything this thread allocates is heapsnap's own
  g_service_tid.store(static_cast<int>(gettid()));
  unsigned sequence = 0;
  const int timeout = g_config.interval.count() > 0 ? static_cast<int>(g_config.interval.count()) : -1;
  while (true) {
    pollfd wake{g_wake_pipe[0], POLLIN, 0};
    const int ready = poll(&wake, 1, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return nullptr;
    const char* reason = "interval";
    if (ready > 0) {
      char drained[64];
      while (read(g_wake_pipe[0], drained, sizeof drained) > 0) {
      }
      reason = "signal";
    }
    g_config.take(reason, ++sequence);
  }
}

bool start_thread() noexcept {
  if (pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  // The thread takes no signal of the program's: they must reach the program's own threads.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t thread;
  const bool started = pthread_create(&thread, nullptr, serve, nullptr) == 0;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (started) pthread_detach(thread);
  return started;
}

}  // namespace

bool start_snapshot_service(const SnapshotServiceConfig& config) noexcept {
  if (config.take == nullptr || (config.signal == 0 && config.interval.count() <= 0)) return false;
  g_config = config;
  if (!start_thread()) return false;
  if (config.signal != 0) {
    struct sigaction action {};
    action.sa_sigaction = on_snapshot_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(config.signal, &action, &g_program_action);
  }
  return true;
}

int snapshot_service_thread_id() noexcept { return g_service_tid.load(); }

void restart_snapshot_service_after_fork() noexcept {
  g_service_tid.store(0);
  if (g_config.take == nullptr) return;
  close(g_wake_pipe[0]);
  close(g_wake_pipe[1]);
  start_thread();
}

}  // namespace heapsnap
