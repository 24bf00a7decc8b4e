#pragma once
// Return address -> how to find the caller's frame, learnt from the DWARF unwinder and kept, so that
// the next unwind through the same code costs one lookup per frame instead of a CFI interpretation.
//
// In code built without frame pointers, the canonical frame address (CFA) of a frame at a given call
// site is the stack pointer plus a constant: the unwinder tells us both, and the constant is all we
// keep. Frames whose CFA is not stack-pointer relative (a frame pointer was set up, e.g. for alloca;
// signal frames) are remembered as not cacheable, and an unwind that reaches one falls back to the
// DWARF unwinder for the whole stack. Lock-free: open addressing, a CAS to claim a slot.

#include <cstdint>

namespace heapsnap {

enum class UnwindRule : std::int32_t {
  Unknown = 0,          // not seen yet
  Outermost = -1,       // the last frame of a stack (_start, clone): stop here
  NotCacheable = -2,    // CFA not a constant distance from the stack pointer: use the DWARF unwinder
};

// For a return address: the distance (> 0) from the stack pointer at that call site to the frame's
// CFA, or one of the UnwindRule values.
std::int32_t unwind_rule_for(std::uintptr_t return_address) noexcept;
void remember_unwind_rule(std::uintptr_t return_address, std::int32_t rule) noexcept;

}  // namespace heapsnap
