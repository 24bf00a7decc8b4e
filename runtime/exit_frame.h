#pragma once
// Where a thread's live stack began when it set out to end the process: the stack pointer of the code
// that called exit (or _exit), or that main returned to, and the callee-saved registers it held.
//
// The exit snapshot's leak analysis runs deep inside exit, in the preload library's destructor. Below
// the caller's stack pointer lie only dead frames: what main's callees and exit's own handlers left
// there. Scanning them would keep leaked blocks alive through stale pointers, differently from run
// to run; LeakSanitizer scans the exiting thread from its caller's stack pointer for the same reason.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace heapsnap {

struct ExitFrame {
  std::uintptr_t stack_from = 0;            // the caller's stack pointer: the live stack is above it
  bool has_registers = false;               // whether callee_saved holds the caller's values
  std::uintptr_t callee_saved[6] = {};      // x86-64: rbx, rbp, r12, r13, r14, r15
};

// Records the frame of the calling thread, replacing one recorded before. Async-signal-safe.
void record_exit_frame(const ExitFrame& frame) noexcept;

// The frame the thread `tid` recorded, if any.
std::optional<ExitFrame> exit_frame_of(pid_t tid) noexcept;

}  // namespace heapsnap
