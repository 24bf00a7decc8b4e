#pragma once
// How to step from a frame to its caller's, for one return address: what the cached unwinder keeps
// (unwind_cache.h) and what the call-frame information gives (cfi_rule.h).
//
// On x86-64 a frame's canonical frame address (CFA) is its caller's stack pointer, the return address
// sits just below it, and the only register an unwind must track besides the stack pointer is the
// frame pointer rbp, which frames built with frame pointers compute their CFA from (debug builds,
// code that uses alloca or realigns its stack, JIT code). So a rule is: where the CFA is (a constant
// from rsp or from rbp), and where the caller's rbp was saved (if this frame changed it).

#include <bit>
#include <cstdint>

namespace heapsnap {

enum class FrameRuleKind : std::uint8_t {
  Unknown = 0,        // not learnt yet
  StackPointer,       // CFA = rsp + cfa_offset
  FramePointer,       // CFA = rbp + cfa_offset (the call-frame information says so)
  FramePointerChain,  // no call-frame information (JIT code, code without .eh_frame): assume the
                      // frame keeps a frame pointer (CFA = rbp + 16, caller's rbp at CFA - 16), and
                      // stop the walk where that looks implausible
  Outermost,          // the last frame of a stack (_start, a thread's start): stop here
  NotCacheable,       // not expressible here (signal frames, DWARF expressions): use libgcc's unwinder
};

// Eight bytes without padding: it travels in one register, and packs into the cache's atomic word
// by a bit copy (a struct returned through memory cost the cached unwinder a store-forwarding stall
// per frame).
struct FrameRule {
  std::int32_t cfa_offset = 0;
  std::int16_t saved_frame_pointer = 0;  // 0: rbp is the caller's; else the caller's rbp is at CFA + this
  FrameRuleKind kind = FrameRuleKind::Unknown;
  std::uint8_t reserved = 0;

  constexpr std::uint64_t pack() const { return std::bit_cast<std::uint64_t>(*this); }
  static FrameRule unpack(std::uint64_t word) { return std::bit_cast<FrameRule>(word); }  // 0 is Unknown
  static FrameRule of(FrameRuleKind kind) { return {0, 0, kind, 0}; }
};
static_assert(sizeof(FrameRule) == sizeof(std::uint64_t));

// The rule of every frame that keeps a frame pointer the usual way (push rbp; mov rbp, rsp): the CFA
// is 16 above rbp, and the caller's rbp was saved at the CFA - 16. Almost every frame of a debug build.
inline constexpr std::uint64_t kStandardFramePointerRule =
    FrameRule{16, -16, FrameRuleKind::FramePointer, 0}.pack();

}  // namespace heapsnap
