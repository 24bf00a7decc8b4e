#pragma once
// Builds a Snapshot of the live traced heap: one walk over the arena, aggregated per (site,
// reachability), then one symbolization per distinct frame.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "allocator/allocator.h"
#include "snapshot/snapshot.h"

namespace heapsnap {

// Classifies a live block for leak reports.
using BlockClassifier = std::function<Reachability(const alloc::BlockInfo&)>;

// A reference cycle in block terms, as a collector found it.
struct BlockCycle {
  std::vector<alloc::BlockInfo> members;
  std::vector<CycleEdge> edges;  // from/to index into members
  bool reachable = false;
};

// What a leak analysis concluded; the snapshot builder turns it into reachability and cycles.
struct LeakFindings {
  BlockClassifier classify;
  std::vector<BlockCycle> cycles;
  std::optional<ThreadStop> thread_stop;  // how the analysis stopped the other threads
};

// A snapshot of the live traced heap; with `findings`, a leak-analysed one.
// Where the live blocks' sizes and counts come from. HeapWalk visits every block (exact; needed for a
// leak analysis and in sampling mode); SiteCounters sums the per-site counters kept in process
// (site_counters.h): time in proportion to sites, not blocks. SiteCounters falls back to the walk
// when it cannot answer (a leak analysis, sampling, too many sites).
enum class LiveBlockSource { HeapWalk, SiteCounters };
// `with_memory_before_tracing` (a heap walk only): the blocks allocated while tracing was off
// (SiteTag::NotTracing) as one more trace, Trace::before_tracing, with a one-frame traceback
// "<allocated before tracing started>". tracemalloc's take_snapshot() leaves them out.
// `peak_window`: whose peak the per-site peak view is (Snapshot::peak_view): the whole run's, or, for
// numbered snapshots, the window since the previous one (traced_memory::start_peak_window).
enum class PeakWindow { Whole, SincePreviousSnapshot };
Snapshot build_snapshot(const std::string& reason, const LeakFindings* findings = nullptr,
                        LiveBlockSource source = LiveBlockSource::HeapWalk, bool with_memory_before_tracing = false,
                        PeakWindow peak_window = PeakWindow::Whole);

// The traceback of the live traced block holding `p` (interior pointers allowed).
std::optional<Traceback> traceback_of_block(const void* p);

// Forgets every trace: live traced blocks become untraced (tracemalloc.clear_traces()).
void untrace_all_blocks() noexcept;

// Before a library is unloaded: symbolizes, and keeps, every recorded frame inside [begin, end), so
// that stacks through the library still read as its functions and lines after its code is gone.
// (If another library is later loaded at the same addresses, its frames will read as this one's.)
void symbolize_frames_in(std::uintptr_t begin, std::uintptr_t end) noexcept;

// Serializes snapshot building against fork(): held across fork by the runtime's atfork handlers.
void snapshot_lock_before_fork() noexcept;
void snapshot_unlock_after_fork() noexcept;

}  // namespace heapsnap
