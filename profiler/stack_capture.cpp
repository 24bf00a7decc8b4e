#include "profiler/stack_capture.h"

#include <unwind.h>

namespace heapsnap {
namespace {

struct UnwindState {
  CapturedStack* out;
  std::uint32_t limit;
  std::uint32_t skip;
};

_Unwind_Reason_Code on_frame(_Unwind_Context* context, void* arg) {
  auto* state = static_cast<UnwindState*>(arg);
  const std::uintptr_t ip = _Unwind_GetIP(context);
  if (ip == 0) return _URC_END_OF_STACK;
  if (state->skip > 0) {
    --state->skip;
    return _URC_NO_REASON;
  }
  CapturedStack& out = *state->out;
  if (out.depth < state->limit) out.frames[out.depth++] = ip;
  // Keep counting past the limit for total_nframe, but not forever on a corrupt stack.
  return ++out.total < 2 * kMaxFrames ? _URC_NO_REASON : _URC_END_OF_STACK;
}

}  // namespace

// With GCC 12 and glibc >= 2.35 the unwinder finds FDEs through _dl_find_object: no global lock.
// Issue "performance" replaces this with a cached unwinder; the interface stays.
[[gnu::noinline]] void capture_stack(CapturedStack& out, std::uint32_t limit, std::uint32_t skip) noexcept {
  out.depth = 0;
  out.total = 0;
  UnwindState state{&out, limit < kMaxFrames ? limit : static_cast<std::uint32_t>(kMaxFrames), skip + 1};
  _Unwind_Backtrace(on_frame, &state);  // +1 above: the first frame reported is capture_stack itself
}

}  // namespace heapsnap
