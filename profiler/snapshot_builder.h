#pragma once
// Builds a Snapshot of the live traced heap: one walk over the arena, aggregated per (site,
// reachability), then one symbolization per distinct frame.

#include <functional>
#include <optional>
#include <string>

#include "allocator/allocator.h"
#include "profiler/snapshot.h"

namespace heapsnap {

// Classifies a live block for leak reports; absent means no leak analysis.
using BlockClassifier = std::function<Reachability(const alloc::BlockInfo&)>;

Snapshot build_snapshot(const std::string& reason, const BlockClassifier& classify = {});

// The traceback of the live traced block holding `p` (interior pointers allowed).
std::optional<Traceback> traceback_of_block(const void* p);

// Forgets every trace: live traced blocks become untraced (tracemalloc.clear_traces()).
void untrace_all_blocks() noexcept;

// Serializes snapshot building against fork(): held across fork by the runtime's atfork handlers.
void snapshot_lock_before_fork() noexcept;
void snapshot_unlock_after_fork() noexcept;

}  // namespace heapsnap
