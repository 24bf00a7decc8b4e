#include "profiler/stack_capture.h"

#include <unwind.h>

#include <atomic>

#include "profiler/unwind_cache.h"

namespace heapsnap {
namespace {

constexpr std::uint32_t kMaxWalk = 2 * kMaxFrames;  // frames counted for total_nframe, at most
constexpr std::uintptr_t kMaxFrameBytes = 1 << 20;  // a frame larger than this is not trusted

std::atomic<UnwindMethod> g_method{UnwindMethod::Cached};
std::atomic<std::uint64_t> g_dwarf_unwinds{0};

// Collects the frames of one unwind: skips heapsnap's own, keeps `limit`, counts them all.
struct Collector {
  CapturedStack& out;
  std::uint32_t limit;
  std::uint32_t skip;

  Collector(CapturedStack& stack, std::uint32_t max_frames, std::uint32_t own_frames)
      : out(stack), limit(max_frames < kMaxFrames ? max_frames : kMaxFrames), skip(own_frames) {
    out.depth = 0;
    out.total = 0;
  }
  // False once enough frames were seen.
  bool add(std::uintptr_t pc) {
    if (skip > 0) {
      --skip;
      return true;
    }
    if (out.depth < limit) out.frames[out.depth++] = pc;
    return ++out.total < kMaxWalk;
  }
};

// --- the DWARF unwinder (libgcc), which also teaches the cache -----------------------------------

// libgcc's _Unwind_GetCFA(context) is the stack pointer of the frame `context` describes, at its call
// site (the CFA of the frame it called). So a frame's rule, the distance from its stack pointer to
// its own CFA, is the next frame's value minus its own: each frame is decided when its caller is seen.
struct DwarfWalk {
  Collector* collector;
  std::uint32_t index = 0;               // frame number; 0 is capture_stack itself
  std::uintptr_t pending_pc = 0;         // the last frame seen, not decided yet
  std::uintptr_t pending_stack_pointer = 0;
  std::uintptr_t pending_frame_pointer = 0;
  bool pending_exact_ip = false;
  bool truncated = false;   // stopped by us: the last frame seen is not the outermost
  bool null_frame = false;  // the unwinder stepped to a frame with no return address: the end
};

_Unwind_Reason_Code on_dwarf_frame(_Unwind_Context* context, void* arg) {
  auto& walk = *static_cast<DwarfWalk*>(arg);
  int exact_ip = 0;  // 1: this frame was interrupted by a signal, its IP is not a return address
  const std::uintptr_t pc = _Unwind_GetIPInfo(context, &exact_ip);
  const std::uintptr_t stack_pointer = _Unwind_GetCFA(context);
  if (pc == 0) {
    walk.null_frame = true;
    return _URC_END_OF_STACK;  // (which makes _Unwind_Backtrace itself report a phase-1 error)
  }
  if (walk.pending_pc != 0) {
    const std::uintptr_t cfa = stack_pointer;  // the pending frame's CFA
    const std::uintptr_t distance = cfa - walk.pending_stack_pointer;
    // Not cacheable: a frame that set up a frame pointer (rbp == CFA - 16: it may move its stack
    // pointer at run time), a frame a signal interrupted, and the signal trampoline above which one is.
    const bool constant = !walk.pending_exact_ip && exact_ip == 0 && walk.pending_frame_pointer != cfa - 16 &&
                          cfa > walk.pending_stack_pointer && distance < kMaxFrameBytes && distance % sizeof(void*) == 0;
    remember_unwind_rule(walk.pending_pc, constant ? static_cast<std::int32_t>(distance)
                                                   : static_cast<std::int32_t>(UnwindRule::NotCacheable));
    walk.pending_pc = 0;
  }
  if (walk.index++ == 0) return _URC_NO_REASON;  // capture_stack itself
  walk.pending_pc = pc;
  walk.pending_stack_pointer = stack_pointer;
  walk.pending_frame_pointer = _Unwind_GetGR(context, 6);
  walk.pending_exact_ip = exact_ip != 0;
  if (!walk.collector->add(pc)) {
    walk.truncated = true;
    return _URC_END_OF_STACK;
  }
  return _URC_NO_REASON;
}

// Inlined even at -O0: the first frame _Unwind_Backtrace reports must be capture_stack itself.
[[gnu::always_inline]] inline void unwind_with_dwarf(Collector& collector) {
  g_dwarf_unwinds.fetch_add(1, std::memory_order_relaxed);
  DwarfWalk walk{&collector};
  const _Unwind_Reason_Code end = _Unwind_Backtrace(on_dwarf_frame, &walk);
  // The last frame the unwinder could step to is the outermost one (_start, clone).
  if (walk.pending_pc != 0 && (end == _URC_END_OF_STACK || walk.null_frame) && !walk.truncated)
    remember_unwind_rule(walk.pending_pc, static_cast<std::int32_t>(UnwindRule::Outermost));
}

// --- the cached unwinder ---------------------------------------------------------------------

// Walks with learnt rules from `pc` (capture_stack's return address) and `stack_pointer` (its
// caller's stack pointer at the call). False when a frame has no usable rule: start over with DWARF.
[[gnu::always_inline]] inline bool unwind_with_cache(Collector& collector, std::uintptr_t pc, std::uintptr_t stack_pointer) {
  while (true) {
    const std::int32_t rule = unwind_rule_for(pc);
    if (rule <= 0 && rule != static_cast<std::int32_t>(UnwindRule::Outermost)) return false;
    if (!collector.add(pc) || rule == static_cast<std::int32_t>(UnwindRule::Outermost)) return true;
    const std::uintptr_t cfa = stack_pointer + static_cast<std::uintptr_t>(rule);
    pc = *reinterpret_cast<const std::uintptr_t*>(cfa - sizeof(void*));  // the return address sits below the CFA
    stack_pointer = cfa;
  }
}

// --- frame pointers --------------------------------------------------------------------------

void unwind_with_frame_pointers(Collector& collector, const std::uintptr_t* frame) {
  while (frame != nullptr) {
    const std::uintptr_t pc = frame[1];
    if (pc == 0 || !collector.add(pc)) return;
    const auto* next = reinterpret_cast<const std::uintptr_t*>(frame[0]);
    // The chain must climb the stack, by a sane amount, on aligned addresses.
    if (next <= frame || reinterpret_cast<std::uintptr_t>(next) - reinterpret_cast<std::uintptr_t>(frame) > kMaxFrameBytes ||
        reinterpret_cast<std::uintptr_t>(next) % sizeof(void*) != 0)
      return;
    frame = next;
  }
}

}  // namespace

void set_unwind_method(UnwindMethod method) noexcept { g_method.store(method, std::memory_order_relaxed); }
UnwindMethod unwind_method() noexcept { return g_method.load(std::memory_order_relaxed); }
std::uint64_t dwarf_unwind_count() noexcept { return g_dwarf_unwinds.load(std::memory_order_relaxed); }

// The cached walk costs one hash probe and one load per frame; the DWARF unwinder, which interprets
// call-frame information, runs only for stacks through code not seen before.
[[gnu::noinline]] void capture_stack(CapturedStack& out, std::uint32_t limit, std::uint32_t skip) noexcept {
  // This function keeps a frame pointer (__builtin_frame_address forces one): its CFA is 16 above it.
  const auto* frame = static_cast<const std::uintptr_t*>(__builtin_frame_address(0));
  switch (g_method.load(std::memory_order_relaxed)) {
    case UnwindMethod::FramePointers: {
      Collector collector(out, limit, skip);
      unwind_with_frame_pointers(collector, frame);
      return;
    }
    case UnwindMethod::Cached: {
      Collector collector(out, limit, skip);
      const auto caller_pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
      if (unwind_with_cache(collector, caller_pc, reinterpret_cast<std::uintptr_t>(frame) + 2 * sizeof(void*))) return;
      [[fallthrough]];
    }
    case UnwindMethod::Dwarf: {
      Collector collector(out, limit, skip);
      unwind_with_dwarf(collector);
      return;
    }
  }
}

}  // namespace heapsnap
