#include "profiler/snapshot_service.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iterator>
#include <cerrno>

#include "profiler/recursion_guard.h"
#include "profiler/signal_chain.h"

// The C library's own sigaction under its exported internal name: heapsnap's calls must not go
// through the sigaction the preload library exports to the program (signal_interpose.cpp).
extern "C" int __sigaction(int signal, const struct sigaction* action, struct sigaction* previous) noexcept;

namespace heapsnap {
namespace {

SnapshotServiceConfig g_config;
int g_wake_pipe[2] = {-1, -1};
int g_done_pipe[2] = {-1, -1};  // the service thread says "final snapshot written" here

// The signals whose default action ends the program quietly and that a final snapshot should survive,
// and whether heapsnap's handler stands in for their default action now.
constexpr int kTerminatingSignals[] = {SIGTERM, SIGINT, SIGHUP};
std::atomic<bool> g_handler_installed[std::size(kTerminatingSignals)] = {};

int terminating_index(int signal) {
  for (std::size_t i = 0; i < std::size(kTerminatingSignals); ++i)
    if (kTerminatingSignals[i] == signal) return static_cast<int>(i);
  return -1;
}

bool is_default(const struct sigaction& action) {
  return (action.sa_flags & SA_SIGINFO) == 0 && action.sa_handler == SIG_DFL;
}
constexpr char kSnapshotRequest = 's';
std::atomic<int> g_service_tid{0};
struct sigaction g_program_action;  // the program's handler for our signal, chained to

void on_snapshot_signal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  [[maybe_unused]] ssize_t ignored = write(g_wake_pipe[1], &kSnapshotRequest, 1);  // async-signal-safe
  pass_on_to_program(g_program_action, signal, info, context);
  errno = saved_errno;
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

// How long a terminating signal waits for the final snapshot. A thread interrupted inside heapsnap
// may hold a lock the snapshot needs: it waits briefly, and the program ends without the snapshot
// rather than hanging.
int final_snapshot_wait_ms() { return tl_inside_heapsnap ? 2000 : 120000; }

// Async-signal-safe throughout: write, poll, read, sigaction, raise.
void on_terminating_signal(int signal) {
  const int saved_errno = errno;
  const char request = static_cast<char>(signal);  // a signal number, never kSnapshotRequest
  if (write(g_wake_pipe[1], &request, 1) == 1) {
    pollfd done{g_done_pipe[0], POLLIN, 0};
    int left = final_snapshot_wait_ms();
    while (left > 0) {
      const int ready = poll(&done, 1, 100);
      if (ready > 0) break;
      if (ready == 0 || errno == EINTR) left -= 100;  // interrupted by a stop-the-world: keep waiting
      else break;
    }
  }
  // The default action now, as if heapsnap had not been here: the status the parent sees is the
  // signal's. The signal is blocked until this handler returns, so it is delivered right after.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  if (const int index = terminating_index(signal); index >= 0) g_handler_installed[index].store(false);
  __sigaction(signal, &default_action, nullptr);
  raise(signal);
  errno = saved_errno;
}

// Installs heapsnap's handler for `signal` in place of its default action.
void install_terminating_handler(int index) noexcept {
  struct sigaction action {};
  action.sa_handler = on_terminating_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (__sigaction(kTerminatingSignals[index], &action, nullptr) == 0) g_handler_installed[index].store(true);
}

void install_terminating_handlers() noexcept {
  for (std::size_t i = 0; i < std::size(kTerminatingSignals); ++i) {
    struct sigaction current {};
    // An ignored signal stays ignored, and a handler installed before ours (by a library
    // constructor) keeps the signal: both mean the program does not die of it by default.
    if (__sigaction(kTerminatingSignals[i], nullptr, &current) != 0 || !is_default(current)) continue;
    install_terminating_handler(static_cast<int>(i));
  }
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
    if (ready == 0) {
      g_config.take("interval", ++sequence);
      continue;
    }
    char drained[64];
    bool snapshot_asked = false;
    int terminating = 0;
    for (ssize_t got; (got = read(g_wake_pipe[0], drained, sizeof drained)) > 0;) {
      for (ssize_t i = 0; i < got; ++i) {
        if (drained[i] == kSnapshotRequest) snapshot_asked = true;
        else terminating = drained[i];
      }
    }
    if (terminating != 0 && g_config.take_final != nullptr) {
      g_config.take_final(signal_name(terminating));
      const char done = 'd';
      [[maybe_unused]] ssize_t ignored = write(g_done_pipe[1], &done, 1);
      continue;  // the program is ending: no further snapshots
    }
    if (snapshot_asked) g_config.take("signal", ++sequence);
  }
}

bool start_thread() noexcept {
  if (pipe2(g_wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  if (pipe2(g_done_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
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
  if (config.take == nullptr || (config.signal == 0 && config.interval.count() <= 0 && config.take_final == nullptr)) {
    return false;
  }
  g_config = config;
  if (!start_thread()) return false;
  if (config.take_final != nullptr) install_terminating_handlers();
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

int program_sigaction(int signal, const struct sigaction* action, struct sigaction* previous) noexcept {
  const int index = terminating_index(signal);
  if (index < 0 || g_config.take_final == nullptr) return __sigaction(signal, action, previous);
  const bool ours = g_handler_installed[index].load();
  if (action != nullptr && is_default(*action)) {
    // The default action, as the program asks: heapsnap's handler provides it, snapshot first.
    if (!ours && __sigaction(signal, nullptr, previous) != 0) return -1;
    if (ours && previous != nullptr) {
      *previous = {};
      previous->sa_handler = SIG_DFL;
    }
    if (!ours) install_terminating_handler(index);
    return 0;
  }
  if (!ours) return __sigaction(signal, action, previous);
  if (previous != nullptr) {  // what the program set last, as far as it can tell: the default
    *previous = {};
    previous->sa_handler = SIG_DFL;
  }
  if (action == nullptr) return 0;
  // A handler of the program's own, or SIG_IGN: it decides what the signal does from now on.
  if (__sigaction(signal, action, nullptr) != 0) return -1;
  g_handler_installed[index].store(false);
  return 0;
}

void restart_snapshot_service_after_fork() noexcept {
  g_service_tid.store(0);
  if (g_config.take == nullptr) return;
  for (int* pipe_ends : {g_wake_pipe, g_done_pipe}) {
    close(pipe_ends[0]);
    close(pipe_ends[1]);
  }
  start_thread();
}

}  // namespace heapsnap
