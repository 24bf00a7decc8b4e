#pragma once
// Whether a Valgrind leak suppression (its fun:, obj:, src: and ... lines) matches an allocation stack,
// with Valgrind's semantics: lines are matched one frame each from the allocation site outwards, "..."
// matches any run of frames (none included), and frames beyond the rule's last line do not matter.
//
// heapsnap's stacks begin at the allocator's caller, Valgrind's at the allocator itself (fun:malloc,
// fun:_Znwm, ...): a first line that names an allocation function may also match no frame at all.
// A fun: pattern that is a mangled C++ name (fun:_ZN5Cache3putEv) is demangled and compared with and
// without its parameter list, as heapsnap names functions either way; other patterns are globs over
// the function name as heapsnap shows it. obj: globs the module's path, src: "file" or "file:line".

#include "snapshot/suppressions.h"
#include "snapshot/traceback.h"

namespace heapsnap {

bool stack_matches(const SuppressionRule& rule, const Traceback& traceback);

}  // namespace heapsnap
