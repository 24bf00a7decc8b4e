#include "runtime/stack_capture.h"

#include <unwind.h>

#include <atomic>

#include "runtime/cfi_rule.h"
#include "runtime/unwind_cache.h"

extern "C" void* __libc_stack_end;  // glibc's: the main thread's stack pointer at start, near its top

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

// --- the DWARF unwinder (libgcc) ---------------------------------------------------------------

struct DwarfWalk {
  Collector* collector;
  bool first = true;  // capture_stack's own frame, which is not reported
};

_Unwind_Reason_Code on_dwarf_frame(_Unwind_Context* context, void* arg) {
  auto& walk = *static_cast<DwarfWalk*>(arg);
  const std::uintptr_t pc = _Unwind_GetIP(context);
  if (pc == 0) return _URC_END_OF_STACK;
  if (walk.first) {
    walk.first = false;
    return _URC_NO_REASON;
  }
  return walk.collector->add(pc) ? _URC_NO_REASON : _URC_END_OF_STACK;
}

// Inlined even at -O0: the first frame _Unwind_Backtrace reports must be capture_stack itself.
[[gnu::always_inline]] inline void unwind_with_dwarf(Collector& collector) {
  g_dwarf_unwinds.fetch_add(1, std::memory_order_relaxed);
  DwarfWalk walk{&collector};
  _Unwind_Backtrace(on_dwarf_frame, &walk);
}

// --- the cached unwinder ---------------------------------------------------------------------

// Where the calling thread's stack ends (its highest address), for checking frame pointers guessed
// in code without call-frame information: glibc puts a thread's descriptor, whose address is the
// thread pointer, at the top of its stack; the main thread's stack ends above __libc_stack_end.
// A stack pointer farther than this below that end is on some other stack (a signal's alternate
// stack, a coroutine's), whose end is unknown: guessed frames are not followed there.
constexpr std::uintptr_t kMaxStackDepth = std::uintptr_t{64} << 20;
std::uintptr_t stack_end_above(std::uintptr_t stack_pointer) noexcept {
  std::uintptr_t end = 0;
#if defined(__x86_64__)
  const auto thread_pointer = reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
  const auto main_stack_end = reinterpret_cast<std::uintptr_t>(__libc_stack_end);
  if (stack_pointer < main_stack_end && (thread_pointer < stack_pointer || thread_pointer > main_stack_end)) end = main_stack_end;
  else if (thread_pointer > stack_pointer) end = thread_pointer;
#endif
  return end != 0 && end - stack_pointer <= kMaxStackDepth ? end : 0;  // 0: unknown, guesses not followed
}

// Walks with learnt rules from `pc` (capture_stack's return address), `stack_pointer` (its caller's
// stack pointer at the call) and `frame_pointer` (the caller's rbp then). A return address seen for
// the first time has its rule read from the call-frame information, once. False when a frame has a
// rule this walk cannot follow (a signal frame...): start over with DWARF.
[[gnu::always_inline]] inline bool unwind_with_rules(Collector& collector, std::uintptr_t pc, std::uintptr_t stack_pointer,
                                                      std::uintptr_t frame_pointer) {
  std::uintptr_t stack_end = 0;  // found when first needed
  while (true) {
    const std::uint64_t packed_rule = packed_unwind_rule_for(pc);
    if (packed_rule == kStandardFramePointerRule) [[likely]] {
      // The general step below, for the commonest rule, written so that the next frame's loads
      // depend on the frame pointer alone, not on the rule just looked up: the CPU predicts this
      // branch and walks on while the lookup (the long chain of loads per frame) is still checked.
      // A debug build's stack is all such frames.
      if (!collector.add(pc)) return true;
      const std::uintptr_t cfa = frame_pointer + 2 * sizeof(void*);
      if (cfa <= stack_pointer || cfa - stack_pointer > kMaxFrameBytes) return true;  // a corrupt chain: stop
      pc = *reinterpret_cast<const std::uintptr_t*>(cfa - sizeof(void*));
      frame_pointer = *reinterpret_cast<const std::uintptr_t*>(cfa - 2 * sizeof(void*));
      stack_pointer = cfa;
      if (pc == 0) return true;
      continue;
    }
    FrameRule rule = FrameRule::unpack(packed_rule);
    if (rule.kind == FrameRuleKind::Unknown) [[unlikely]] {
      rule = frame_rule_for_return_address(pc);
      remember_unwind_rule(pc, rule);
    }
    if (rule.kind == FrameRuleKind::NotCacheable) return false;
    if (!collector.add(pc) || rule.kind == FrameRuleKind::Outermost) return true;
    std::uintptr_t cfa = 0;
    if (rule.kind == FrameRuleKind::StackPointer) {
      cfa = stack_pointer + static_cast<std::uintptr_t>(rule.cfa_offset);
    } else if (rule.kind == FrameRuleKind::FramePointer) {
      cfa = frame_pointer + static_cast<std::uintptr_t>(rule.cfa_offset);
      if (cfa <= stack_pointer || cfa - stack_pointer > kMaxFrameBytes) return true;  // a corrupt chain: stop
    } else {  // FramePointerChain: a guess, followed only inside this thread's stack
      if (stack_end == 0) stack_end = stack_end_above(stack_pointer);
      if (stack_end == 0 || frame_pointer < stack_pointer || frame_pointer - stack_pointer > kMaxFrameBytes ||
          frame_pointer % sizeof(void*) != 0 || frame_pointer + 2 * sizeof(void*) > stack_end)
        return true;
      cfa = frame_pointer + 2 * sizeof(void*);
      rule.saved_frame_pointer = -2 * static_cast<std::int16_t>(sizeof(void*));
    }
    pc = *reinterpret_cast<const std::uintptr_t*>(cfa - sizeof(void*));  // the return address sits below the CFA
    if (rule.saved_frame_pointer != 0) frame_pointer = *reinterpret_cast<const std::uintptr_t*>(cfa + rule.saved_frame_pointer);
    stack_pointer = cfa;
    if (pc == 0) return true;
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

// The cached walk costs one hash probe and one or two loads per frame; the DWARF unwinder runs only
// for stacks through frames a rule cannot describe (signal frames, CFA expressions).
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
      if (unwind_with_rules(collector, caller_pc, reinterpret_cast<std::uintptr_t>(frame) + 2 * sizeof(void*), frame[0])) return;
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
