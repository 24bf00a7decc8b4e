#pragma once
// Waiting on and waking a 32-bit word with the futex system call: no descriptor, no lock, no memory,
// and async-signal-safe, so a signal handler and heapsnap's own threads can meet through it, and a
// forked child inherits nothing that could be held.

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace heapsnap {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the kernel reads the futex word itself");

enum class FutexWait { Woken, ValueChanged, TimedOut, Interrupted };

// Sleeps while `word` holds `expected`, at most `timeout` (forever when negative). Woken can be
// spurious: the caller checks the word again.
inline FutexWait futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                            std::chrono::milliseconds timeout) noexcept {
  timespec relative{};
  relative.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  relative.tv_nsec = static_cast<long>(timeout.count() % 1000) * 1'000'000;
  const int saved_errno = errno;
  const long result = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
                              timeout.count() < 0 ? nullptr : &relative, nullptr, 0);
  const int error = errno;
  errno = saved_errno;
  if (result == 0) return FutexWait::Woken;
  if (error == ETIMEDOUT) return FutexWait::TimedOut;
  if (error == EINTR) return FutexWait::Interrupted;
  return FutexWait::ValueChanged;  // EAGAIN: `word` no longer held `expected`
}

// Wakes every thread sleeping on `word`.
inline void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  const int saved_errno = errno;
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
  errno = saved_errno;
}

}  // namespace heapsnap
