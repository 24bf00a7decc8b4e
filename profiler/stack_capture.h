#pragma once
// Capturing the return addresses of the current call stack: the hot path of tracing.

#include <cstddef>
#include <cstdint>

namespace heapsnap {

constexpr std::size_t kMaxFrames = 128;  // upper bound of the traceback limit

struct CapturedStack {
  std::uintptr_t frames[kMaxFrames];  // return addresses, most recent first
  std::uint32_t depth = 0;            // frames stored (<= limit)
  std::uint32_t total = 0;            // frames seen before truncation (counted up to kMaxFrames * 2)
};

// Captures up to `limit` frames, skipping the `skip` innermost ones (heapsnap's own).
void capture_stack(CapturedStack& out, std::uint32_t limit, std::uint32_t skip) noexcept;

}  // namespace heapsnap
