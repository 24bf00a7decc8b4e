#pragma once
// What the in-process tests of the preload library share: tracing switched on for one test, and a
// pointer the compiler must assume is used (so an allocation is neither elided nor moved).

#include "preload/api.h"

namespace heapsnap::test {

// Each test starts from a clean, tracing state and leaves tracing off.
struct Tracing {
  explicit Tracing(unsigned depth = 8) {
    heapsnap::stop();
    heapsnap::start(depth);
  }
  ~Tracing() { heapsnap::stop(); }
  Tracing(const Tracing&) = delete;
  Tracing& operator=(const Tracing&) = delete;
};

template <typename T>
void escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
}

}  // namespace heapsnap::test
