#pragma once
// heapsnap's exit statuses (docs/exit-codes.md). `run` exits with the profiled program's own status
// instead; 126 and 127 are the shell's for a program that cannot be executed or found.

namespace heapsnap::cli {

inline constexpr int kExitSuccess = 0;       // success; `check`: the gate passed
inline constexpr int kExitCheckFailed = 1;   // `check`: the gate failed
inline constexpr int kExitUsageError = 2;    // bad command line, or an input that cannot be used
inline constexpr int kExitLeaksFound = 23;   // `run --check`: the program succeeded, the leak gate failed
                                             // (LeakSanitizer's exit code for leaks)
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

}  // namespace heapsnap::cli
