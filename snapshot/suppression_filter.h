#pragma once
// Takes the leaks a suppression list matches out of a snapshot and counts what each rule took
// (docs/suppressions.md#what-a-rule-matches).
//
// A rule matches an allocation stack when its glob matches one of the stack's frames: the frame's
// function, its source file or its module (the whole path, or a suffix of it that starts after a '/'),
// or that file followed by ":<line>". A leaked trace goes to the first rule whose kind applies to it
// (leak: to every leak; direct:, indirect:, cycle: to leaks of that kind). A leaked cycle goes whole,
// all its members, to the first leak: or cycle: rule that matches any member's stack; its members'
// blocks are then taken out of the traces that counted them. Reachable blocks and cycles stay.

#include <cstdint>
#include <vector>

#include "snapshot/snapshot.h"
#include "snapshot/suppressions.h"

namespace heapsnap {

// What rules took out of a snapshot: cycle members count as blocks and bytes too.
struct SuppressedAmount {
  std::uint64_t blocks = 0;
  std::uint64_t bytes = 0;
  std::uint64_t cycles = 0;

  bool empty() const { return blocks == 0 && bytes == 0 && cycles == 0; }
};

struct AppliedSuppressions {
  SuppressionList list;                   // the rules tried, in order (no files: nothing suppressed)
  std::vector<SuppressedAmount> matched;  // per rule of `list`: what it took out

  SuppressedAmount total() const;
};

struct SuppressedSnapshot {
  Snapshot snapshot;            // the input without the suppressed leaks; tracebacks are unchanged
  AppliedSuppressions applied;
};

bool frame_matches(const SuppressionRule& rule, const Frame& frame);

SuppressedSnapshot apply_suppressions(Snapshot snapshot, const SuppressionList& list);

}  // namespace heapsnap
