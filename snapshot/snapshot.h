#pragma once
// The snapshot model: an immutable-by-convention value that every analysis, reporter and the CLI work on.
// Traces are aggregated per (domain, traceback, reachability): a snapshot's size is proportional to
// the number of allocation sites, not of blocks, and statistics need nothing more than size and count.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/traceback.h"

namespace heapsnap {

using DomainId = std::uint32_t;           // 0 = heapsnap's own allocator; others are user-tracked memory
constexpr DomainId kDefaultDomain = 0;
enum class TracebackIndex : std::uint32_t {};  // index into Snapshot::tracebacks

// What the collector concluded about the blocks of a trace. NotAnalyzed when no leak analysis ran:
// then "leaked" falls back to "still allocated".
enum class Reachability : std::uint8_t {
  NotAnalyzed,
  Reachable,  // reachable from a root (global, stack, register, TLS)
  Direct,     // unreachable, and no other unreachable block points to it
  Indirect,   // unreachable, but pointed to by another unreachable block
  Cycle,      // unreachable member of a reference cycle (issue: collector)
};

struct Trace {
  DomainId domain = kDefaultDomain;
  TracebackIndex traceback{};  // allocation site
  std::uint64_t size = 0;      // bytes requested by the program, summed over `count` blocks
  std::uint64_t count = 0;     // live blocks
  Reachability reachability = Reachability::NotAnalyzed;
  // Blocks allocated while tracing was off, in a process whose tracing was started later (`heapsnap
  // ctl start`): they have no stack, and are never a leak of a traced site (leak reports count them
  // apart, and no gate counts them).
  bool before_tracing = false;
};

// A reference cycle found by a collector: blocks that point at each other (a strongly connected
// component of the pointer graph with two or more members, or one member that points to itself).
struct CycleMember {
  std::uint64_t address = 0;   // block start in the profiled process
  std::uint64_t size = 0;      // bytes requested
  TracebackIndex traceback{};  // allocation site (an empty traceback when the block was untraced)
};
// The offset of a reference that is not a field of the referring block (e.g. an element of a vector
// the object owns), as the precise gc can report; written as null in files.
inline constexpr std::uint64_t kUnknownEdgeOffset = ~std::uint64_t{0};

struct CycleEdge {
  std::uint32_t from = 0;    // index into members: the block holding the pointer
  std::uint32_t to = 0;      // index into members: the block pointed to
  std::uint64_t offset = 0;  // byte offset of the pointer inside `from`, or kUnknownEdgeOffset
};
struct Cycle {
  std::vector<CycleMember> members;
  std::vector<CycleEdge> edges;
  std::uint64_t bytes = 0;   // sum of the members' sizes
  bool reachable = false;    // still reachable from a root: not a leak, listed on request only
};

// A free of memory that was not allocated, which heapsnap refused (the heap is untouched).
enum class FreeErrorKind : std::uint8_t {
  DoubleFree,   // the start of a block that was already free
  InvalidFree,  // a pointer into the heap that is not the start of an allocated block
};
struct FreeError {
  FreeErrorKind kind = FreeErrorKind::DoubleFree;
  TracebackIndex freed_at{};                  // the stack of the bad free
  std::optional<TracebackIndex> allocated_at; // DoubleFree: where the block had been allocated, if known
  std::uint64_t count = 0;                    // times it happened with these stacks
  std::uint64_t address = 0;                  // the pointer freed, the first time
};

// How the leak analysis stopped the program's other threads to scan their stacks and registers
// (docs/stop-the-world.md).
enum class StopMethod : std::uint8_t {
  None,     // no other thread was stopped (the analysis was asked not to)
  Ptrace,   // a tracer task attached to every thread: signals the program blocks do not matter
  Signals,  // the fallback: each thread answered a signal, unless it blocks it
};
// Its name in files and reports.
constexpr std::string_view stop_method_name(StopMethod method) {
  switch (method) {
    case StopMethod::None: return "none";
    case StopMethod::Ptrace: return "ptrace";
    case StopMethod::Signals: return "signals";
  }
  return "none";
}
struct ThreadStop {
  StopMethod method = StopMethod::None;
  std::string fallback_reason;          // Signals: why ptrace was not used; empty otherwise
  std::uint64_t threads_scanned = 0;    // including the analysing thread
  std::uint64_t threads_unscanned = 0;  // not stopped: what only they hold may be reported leaked
};

struct ProcessInfo {
  std::int64_t pid = 0;
  std::vector<std::string> argv;
  std::string executable;         // resolved path of the profiled program
  std::string reason;             // why the snapshot was taken: "exit", "signal", "api", "interval", ...
  std::int64_t unix_time_ms = 0;  // when it was taken
};

// What one allocation site did since tracing started, and what it held at the peak: heaptrack's and
// memray's questions (which lines call the allocator most, which allocations are temporary, who held
// the memory at the peak), in addition to `traces`, which hold tracemalloc's answer (live memory).
// Blocks of heapsnap's allocator only: memory other domains track is not counted here.
struct SiteActivity {
  TracebackIndex traceback{};
  std::uint64_t calls = 0;           // allocations at this site
  std::uint64_t allocated_size = 0;  // bytes they asked for
  std::uint64_t temporary = 0;       // of them, freed as their thread's very next allocation or free
  std::uint64_t peak_size = 0;       // live bytes of the site in the peak view (PeakView)
  std::uint64_t peak_count = 0;      // live blocks of the site in the peak view
};

// The moment the per-site peak figures were taken: when the traced total last passed the peak seen
// before by a step (runtime/traced_memory.h), so `total` is within max(4 KiB, peak / 64) of the peak.
struct PeakView {
  std::uint64_t total = 0;  // bytes live in the view: the sum of the sites' peak_size
  // The peak since the previous numbered (interval) snapshot, not since tracing started: what an
  // interval snapshot's view is.
  bool since_previous_snapshot = false;
};

struct Snapshot {
  std::vector<Trace> traces;
  std::vector<SiteActivity> activity;  // one per site with an allocation or a part of the peak; empty
                                       // in files written before it was recorded
  std::optional<PeakView> peak_view;   // absent when no view was taken
  std::vector<Traceback> tracebacks;  // indexed by TracebackIndex; each distinct stack once
  std::uint32_t traceback_limit = 0;  // frames captured per allocation
  std::uint64_t traced_current = 0;   // bytes traced when the snapshot was taken
  std::uint64_t traced_peak = 0;      // peak of traced bytes since start() or reset_peak()
  std::uint64_t allocation_calls = 0; // calls to allocation functions since start(), traced or not
                                      // (what heaptrack counts); 0 when unknown
  bool leak_analysis = false;         // traces carry a Reachability other than NotAnalyzed
  std::uint64_t sampling_rate = 0;    // 0: exact; else mean bytes between samples, and sizes and
                                      // counts are unbiased estimates
  std::vector<Cycle> cycles;          // reference cycles the leak analysis found (unreachable ones, and
                                      // reachable ones when asked for)
  std::vector<FreeError> free_errors;     // bad frees seen while tracing, most frequent first
  std::optional<ThreadStop> thread_stop;  // with leak_analysis: how the threads were stopped (absent
                                          // in files written before it was recorded)
  ProcessInfo process;

  const Traceback& traceback_of(const Trace& trace) const {
    return tracebacks[static_cast<std::uint32_t>(trace.traceback)];
  }
};

}  // namespace heapsnap
