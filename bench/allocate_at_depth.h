#pragma once
// For bench/ workloads: a malloc made `depth` calls down, so that stacks differ in depth and the
// profilers' unwinders have frames to walk.

#include <cstddef>
#include <cstdlib>

[[gnu::noinline]] inline void* allocate_at_depth(int depth, std::size_t size) {
  if (depth > 0) {
    void* p = allocate_at_depth(depth - 1, size);
    asm volatile("" ::"r"(p) : "memory");  // not a tail call: each level keeps its frame
    return p;
  }
  return std::malloc(size);
}
