#pragma once
// Signals heapsnap takes over (the snapshot signal, the stop-the-world signal) are passed on to the
// handler the program had installed. A default action is not replayed: for these signals it would
// end the program, which asked heapsnap, not the kernel, to handle them.

#include <signal.h>

namespace heapsnap {

// Calls the program's handler `previous` for `signal`, if it installed one. Async-signal-safe.
inline void pass_on_to_program(const struct sigaction& previous, int signal, siginfo_t* info, void* context) {
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr)
    previous.sa_sigaction(signal, info, context);
  else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler != nullptr)
    previous.sa_handler(signal);
}

}  // namespace heapsnap
