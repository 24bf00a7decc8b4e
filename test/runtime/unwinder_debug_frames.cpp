// Built with -O0 (test/runtime/CMakeLists.txt): frames that keep a frame pointer and compute their
// CFA from it, as every function of a debug build does. unwinder_test.cpp calls through them.

#include "test/runtime/unwinder_frames.h"

namespace unwinder_frames {

void debug_frame(int depth, Capture capture, void* out) {
  volatile char padding[40] = {};  // a frame of its own size
  padding[0] = static_cast<char>(depth);
  if (depth <= 0) capture(out);
  else if (depth % 2 == 0) optimized_frame(depth - 1, capture, out);
  else debug_frame(depth - 1, capture, out);
  asm volatile("" ::"r"(padding) : "memory");
}

}  // namespace unwinder_frames
