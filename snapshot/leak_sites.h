#pragma once
// Which traces of a snapshot are leaks, grouped into sites.
//
// With leak analysis (Snapshot::leak_analysis), a leak is a trace the collector found unreachable:
// Reachability Direct, Indirect or Cycle. Without it, nothing is known about reachability and every
// live trace counts as leaked: kind Allocated, "still allocated at exit".
// A site is one (kind, full traceback): traces of every domain are added together.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap {

enum class LeakKind { Direct, Indirect, Cycle, Allocated };

std::string_view leak_kind_name(LeakKind kind);  // "direct", "indirect", "cycle", "allocated"

struct LeakAmount {
  std::uint64_t size = 0;   // bytes
  std::uint64_t count = 0;  // blocks
};

struct LeakSite {
  LeakKind kind = LeakKind::Allocated;
  Traceback traceback;                 // allocation stack, most recent frame first
  std::uint64_t size = 0;              // leaked bytes counted against the gate
  std::uint64_t count = 0;             // leaked blocks counted against the gate
  std::optional<LeakAmount> baseline;  // only when compared to a baseline: its leak at this traceback
};

// The leak kind an analysed block of this reachability is, or nullopt when it is reachable (or was not
// analysed).
std::optional<LeakKind> leak_kind_of(Reachability reachability);

// The leak kind of `trace`, or nullopt when it is not a leak (nor is memory allocated before tracing
// started: Trace::before_tracing).
std::optional<LeakKind> leak_kind(const Snapshot& snapshot, const Trace& trace);

// Every leak site of `snapshot`, sorted (see sort_leak_sites).
std::vector<LeakSite> collect_leak_sites(const Snapshot& snapshot);

// The growth of `current`'s leaks over `baseline`'s, per traceback (whatever the kind): bytes and
// blocks each max(0, current - baseline). Only tracebacks that are new or grew are returned; their
// kind is the kind holding most of the current leak there, their `baseline` the baseline's leak.
std::vector<LeakSite> leak_growth(const Snapshot& current, const Snapshot& baseline);

// Biggest first: size, then count, descending; then traceback (oldest frame first, ascending), kind.
void sort_leak_sites(std::vector<LeakSite>& sites);

}  // namespace heapsnap
