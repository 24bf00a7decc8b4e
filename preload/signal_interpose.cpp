// sigaction and signal as the preload library exports them, so that a program that resets SIGTERM,
// SIGINT or SIGHUP to their default action (shells do, at start) keeps the final snapshot heapsnap
// writes before that action ends it (runtime/snapshot_service.h: program_sigaction). bsd_signal,
// sysv_signal and sigset are not interposed.

#include <signal.h>

#include "runtime/snapshot_service.h"

extern "C" [[gnu::visibility("default")]] int sigaction(int signal, const struct sigaction* action,
                                                        struct sigaction* previous) noexcept {
  return heapsnap::program_sigaction(signal, action, previous);
}

// BSD semantics, as glibc's signal(): the signal is blocked in its handler, and system calls restart.
extern "C" [[gnu::visibility("default")]] sighandler_t signal(int signal, sighandler_t handler) noexcept {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, signal);
  action.sa_flags = SA_RESTART;
  struct sigaction previous {};
  if (heapsnap::program_sigaction(signal, &action, &previous) != 0) return SIG_ERR;
  return previous.sa_handler;
}
