#pragma once
// Marks that the calling thread is inside heapsnap. Allocations made while it is set (by heapsnap
// itself, by the unwinder, or by a signal handler that interrupted a traced allocation) are not
// traced: tracing them would recurse, or wait on a lock this very thread holds.

namespace heapsnap {

[[gnu::tls_model("initial-exec")]] inline constinit thread_local bool tl_inside_heapsnap = false;

class RecursionGuard {
 public:
  RecursionGuard() noexcept : was_inside_(tl_inside_heapsnap) { tl_inside_heapsnap = true; }
  ~RecursionGuard() { tl_inside_heapsnap = was_inside_; }
  RecursionGuard(const RecursionGuard&) = delete;
  RecursionGuard& operator=(const RecursionGuard&) = delete;

  // True when the guard was already set when this one was made: the caller is nested.
  bool nested() const noexcept { return was_inside_; }

 private:
  bool was_inside_;
};

}  // namespace heapsnap
