#pragma once
// Runs a program the way a shell does for `heapsnap run`: fork + execvpe (PATH search), standard
// streams inherited untouched, exit status 127/126 when it cannot be found/executed. While it runs,
// heapsnap ignores SIGINT and SIGQUIT (the terminal sends them to the program too) and forwards
// SIGTERM and SIGHUP to it, so that heapsnap outlives the program and can report on it.

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace heapsnap::cli {

struct ProgramLaunch {
  std::vector<std::string> argv;         // argv[0] is searched in PATH unless it contains a '/'
  std::vector<std::string> environment;  // the program's whole environment, "NAME=value" entries
  std::string own_pid_variable;          // if not empty, set in the child to its own pid before exec
  std::string late_variable;             // if not empty, set in the child to what before_exec returns
};

inline constexpr std::size_t kMaxLateValue = 4095;  // bytes of late_variable's value (PATH_MAX - 1)

struct ProgramOutcome {
  enum class Kind {
    Exited,      // `value`: its exit status
    Signaled,    // `value`: the signal that killed it
    NotStarted,  // `value`: execvpe's errno; nothing ran
    Cancelled,   // before_exec returned false; nothing ran
  };
  Kind kind = Kind::Exited;
  int value = 0;
};

// Forks the child, calls `before_exec(child_pid)` in heapsnap while the child waits, then lets the
// child exec with late_variable set to the returned value and waits for it to end. nullopt cancels the
// run. If `before_exec` throws, the child is cancelled and reaped, and the exception propagates.
// Throws std::length_error when the value is longer than kMaxLateValue.
ProgramOutcome run_program(const ProgramLaunch& launch,
                           const std::function<std::optional<std::string>(pid_t)>& before_exec);

}  // namespace heapsnap::cli
