#pragma once
// System calls without libc, for the ptrace tracer task (ptrace_stop.cpp). The tracer shares the
// analysing thread's TLS, so libc's wrappers, which set errno there, must not run on it. x86-64 only.
// Return the kernel's value: the result, or -errno on failure.

#if defined(__x86_64__)

namespace heapsnap::collector::raw {

inline long syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
  long result;
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return result;
}

inline long call(long number, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0) {
  return syscall6(number, a1, a2, a3, a4, 0, 0);
}

inline bool failed(long result) { return result < 0 && result > -4096; }

}  // namespace heapsnap::collector::raw

#endif
