#include "runtime/snapshot_service.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <iterator>

#include "runtime/futex.h"
#include "runtime/recursion_guard.h"
#include "runtime/signal_chain.h"

// The C library's own sigaction under its exported internal name: heapsnap's calls must not go
// through the sigaction the preload library exports to the program (signal_interpose.cpp).
extern "C" int __sigaction(int signal, const struct sigaction* action, struct sigaction* previous) noexcept;

namespace heapsnap {
namespace {

using namespace std::chrono_literals;

SnapshotServiceConfig g_config;

// Signal handlers and the service thread meet through futex words, not pipes: heapsnap keeps no file
// descriptor, so the program's descriptors are numbered as without it, and a program that closes
// every descriptor (closefrom, a close-all loop before exec) cannot break heapsnap or make it write
// into a file of the program's that took a freed number.
std::atomic<std::uint32_t> g_wake_word{0};        // changes with every request; the service thread sleeps on it
std::atomic<bool> g_snapshot_requested{false};    // a snapshot signal arrived since the last snapshot
std::atomic<int> g_terminating_signal{0};         // a terminating signal that waits for the final snapshot
std::atomic<std::uint32_t> g_final_done{0};       // 1 once the final snapshot is written; handlers sleep on it
std::atomic<std::uint32_t> g_service_tid{0};      // the service thread's kernel id, once it has run
std::atomic<bool> g_service_started{false};         // created (its id may not be published yet)

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
struct sigaction g_program_action;  // the program's handler for our signal, chained to

// Async-signal-safe: the request is already stored when the word changes, so the service thread
// either sees the request before it sleeps or is refused sleep because the word moved.
void wake_service() noexcept {
  g_wake_word.fetch_add(1);
  futex_wake_all(g_wake_word);
}

bool request_pending() noexcept { return g_snapshot_requested.load() || g_terminating_signal.load() != 0; }

void on_snapshot_signal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  g_snapshot_requested.store(true);
  wake_service();
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

// Async-signal-safe throughout: atomics, futex, sigaction, raise.
void on_terminating_signal(int signal) {
  const int saved_errno = errno;
  if (g_service_started.load()) {
    int none = 0;
    g_terminating_signal.compare_exchange_strong(none, signal);
    wake_service();
    int left = final_snapshot_wait_ms();
    while (left > 0 && g_final_done.load() == 0) {
      const FutexWait waited = futex_wait(g_final_done, 0, 100ms);
      // Interrupted by a stop-the-world (the snapshot stops this thread too): keep waiting.
      if (waited == FutexWait::TimedOut || waited == FutexWait::Interrupted) left -= 100;
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
  g_service_tid.store(static_cast<std::uint32_t>(gettid()));
  futex_wake_all(g_service_tid);
  unsigned sequence = 0;
  const std::chrono::milliseconds timeout = g_config.interval.count() > 0 ? g_config.interval : -1ms;
  while (true) {
    const std::uint32_t seen = g_wake_word.load();  // before looking at the requests: see wake_service
    if (!request_pending()) {
      const FutexWait waited = futex_wait(g_wake_word, seen, timeout);
      if (waited == FutexWait::TimedOut) g_config.take("interval", ++sequence);
      continue;  // woken (perhaps spuriously) or interrupted: look at the requests again
    }
    const int terminating = g_terminating_signal.exchange(0);
    const bool snapshot_asked = g_snapshot_requested.exchange(false);
    if (terminating != 0 && g_config.take_final != nullptr) {
      g_config.take_final(signal_name(terminating));
      g_final_done.store(1);
      futex_wake_all(g_final_done);
      continue;  // the program is ending: no further snapshots
    }
    if (snapshot_asked) g_config.take("signal", ++sequence);
  }
}

// Starts the thread without waiting for it to run: waiting for the scheduler cost a short-lived
// process 1 ms and more at load. Whoever needs its id (a stop-the-world must leave it running, or it
// would signal a thread that blocks every signal) waits for it then: snapshot_service_thread_id.
bool start_thread() noexcept {
  g_service_tid.store(0);
  g_service_started.store(false);
  // The thread takes no signal of the program's: they must reach the program's own threads.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t thread;
  const bool started = pthread_create(&thread, nullptr, serve, nullptr) == 0;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (!started) return false;
  pthread_detach(thread);
  g_service_started.store(true);
  return true;
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

// The wait takes no lock and allocates nothing; the thread publishes its id first thing it runs.
int snapshot_service_thread_id() noexcept {
  if (!g_service_started.load()) return 0;
  while (g_service_tid.load() == 0) futex_wait(g_service_tid, 0, -1ms);
  return static_cast<int>(g_service_tid.load());
}

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
  // The parent's requests and its final snapshot are not the child's.
  g_service_tid.store(0);
  g_service_started.store(false);
  g_snapshot_requested.store(false);
  g_terminating_signal.store(0);
  g_final_done.store(0);
  if (g_config.take == nullptr) return;
  start_thread();
}

}  // namespace heapsnap
