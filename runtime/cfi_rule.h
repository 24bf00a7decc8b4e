#pragma once
// A frame rule (frame_rule.h) read from the call-frame information (.eh_frame) of the code at a return
// address: libgcc finds the function's FDE (_Unwind_Find_FDE, the search its unwinder does for every
// frame), and a small interpreter runs the CIE's and the FDE's instructions up to the call site. Done
// once per return address; the cached unwinder then steps through that frame with the result.

#include <cstdint>

#include "runtime/frame_rule.h"

namespace heapsnap {

// The rule at the call site that returns to `return_address`: FramePointerChain when no module or
// registered object has call-frame information for it, NotCacheable when the information uses what
// a FrameRule cannot express.
FrameRule frame_rule_for_return_address(std::uintptr_t return_address) noexcept;

// The same, from the raw bytes of a CIE and an FDE (for tests): `fde` points at the FDE's length field,
// and its CIE is found through the FDE's CIE pointer; `function_start` is the FDE's first address.
FrameRule frame_rule_from_fde(const std::uint8_t* fde, std::uintptr_t function_start, std::uintptr_t return_address) noexcept;

}  // namespace heapsnap
