#pragma once
// heapsnap's in-process API, in the spirit of Python's tracemalloc. Available to programs that link
// libheapsnap_preload.so (find_package(heapsnap) -> heapsnap::heapsnap) or run under `heapsnap run`:
// it describes allocations made through heapsnap's allocator.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "snapshot/snapshot.h"

#define HEAPSNAP_API [[gnu::visibility("default")]]

namespace heapsnap {

// Starts tracing, capturing `nframe` frames per allocation (1..128). Calling it while tracing keeps
// the current depth. Throws std::invalid_argument for an out-of-range `nframe`.
HEAPSNAP_API void start(unsigned nframe = 1);
// Stops tracing and forgets every trace.
HEAPSNAP_API void stop();
HEAPSNAP_API bool is_tracing() noexcept;
HEAPSNAP_API unsigned get_traceback_limit() noexcept;

struct TracedMemory {
  std::size_t current;  // bytes of live traced blocks
  std::size_t peak;     // most `current` has been since start() or reset_peak()
};
// {0, 0} when not tracing.
HEAPSNAP_API TracedMemory get_traced_memory() noexcept;
HEAPSNAP_API void reset_peak() noexcept;
// Forgets every trace; tracing goes on.
HEAPSNAP_API void clear_traces() noexcept;
// Bytes heapsnap uses for itself: interned stacks and allocator metadata.
HEAPSNAP_API std::size_t get_tracemalloc_memory() noexcept;

// Traces memory heapsnap's allocator does not see (a custom pool, a GPU buffer, an mmap'd region)
// under `domain`, attributed to the caller; tracking an address again replaces its trace. Like
// PyTraceMalloc_Track: 0 on success, -1 when out of memory, -2 when not tracing.
HEAPSNAP_API int track(DomainId domain, std::uintptr_t address, std::size_t size) noexcept;
// Forgets such a trace. 0 (also when it was not tracked), or -2 when not tracing.
HEAPSNAP_API int untrack(DomainId domain, std::uintptr_t address) noexcept;

// Sampling instead of exact tracing, for always-on use: 0 (the default) traces every allocation;
// N > 0 samples one allocation per N bytes on average (exponentially distributed gaps, per thread),
// and snapshots and traced memory then hold unbiased estimates (Snapshot::sampling_rate says so).
// Applies to allocations made from now on; call clear_traces() to drop traces made at another rate.
HEAPSNAP_API void set_sampling_rate(std::uint64_t mean_bytes_between_samples) noexcept;
HEAPSNAP_API std::uint64_t get_sampling_rate() noexcept;

// A snapshot of every live traced block. Throws std::runtime_error when not tracing.
HEAPSNAP_API Snapshot take_snapshot();
// take_snapshot from the per-site totals heapsnap keeps while the program runs, instead of a visit of
// every live block: its cost grows with the number of allocation sites, not of blocks (what interval
// snapshots use). The same result as take_snapshot() unless clear_traces() or stop() ran while other
// threads were allocating; in sampling mode it is take_snapshot().
HEAPSNAP_API Snapshot take_snapshot_from_site_totals();
// The traceback where the live block holding `p` was allocated; nullopt if untraced or not ours.
HEAPSNAP_API std::optional<Traceback> get_object_traceback(const void* p);

}  // namespace heapsnap
