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

// How stacks are walked:
//   Cached         (default) per-call-site rules (unwind_cache.h) read once from the call-frame
//                  information: exact on code with and without frame pointers and mixes of both;
//                  code without call-frame information (JIT code) is followed through its frame
//                  pointers; libgcc's unwinder only for stacks through signal frames
//   FramePointers  follows the rbp chain: fastest, correct only if every frame keeps a frame pointer
//   Dwarf          libgcc's _Unwind_Backtrace for every stack: the reference, slowest
enum class UnwindMethod { Cached, FramePointers, Dwarf };
void set_unwind_method(UnwindMethod method) noexcept;
UnwindMethod unwind_method() noexcept;
// Stacks walked by the DWARF unwinder so far (all of them in Dwarf mode; misses in Cached mode).
std::uint64_t dwarf_unwind_count() noexcept;

// Captures up to `limit` frames of the caller's stack, skipping the `skip` innermost ones
// (heapsnap's own); frames[0] is then the return address into the first frame kept.
void capture_stack(CapturedStack& out, std::uint32_t limit, std::uint32_t skip) noexcept;

}  // namespace heapsnap
