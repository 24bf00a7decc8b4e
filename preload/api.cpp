#include "preload/api.h"

#include <atomic>
#include <stdexcept>

#include "allocator/allocator.h"
#include "preload/runtime.h"
#include "runtime/domain_tracker.h"
#include "runtime/snapshot_builder.h"
#include "runtime/stack_capture.h"
#include "runtime/trace_table.h"
#include "runtime/tracing.h"

namespace heapsnap {
namespace {

alloc::BlockInfo to_block_info(const TrackedBlock& block) {
  return {reinterpret_cast<void*>(block.address), block.size, block.size, block.site};
}

// Traces a forked child stopped tracing with and has not dropped yet (stop_tracing_in_child).
std::atomic<bool> g_stale_traces{false};

}  // namespace

void start(unsigned nframe) {
  if (nframe < 1 || nframe > kMaxFrames) throw std::invalid_argument("heapsnap::start: nframe must be in 1..128");
  if (tracing::g_enabled.load()) return;
  if (g_stale_traces.exchange(false)) clear_traces();
  tracing::g_depth.store(nframe);
  tracing::reset_counters();
  tracing::g_enabled.store(true);
}

void stop() {
  if (!tracing::g_enabled.exchange(false)) return;
  clear_traces();
}

void stop_tracing_in_child() noexcept {
  if (tracing::g_enabled.exchange(false)) g_stale_traces.store(true);
}

bool is_tracing() noexcept { return tracing::g_enabled.load(); }

unsigned get_traceback_limit() noexcept { return tracing::g_depth.load(); }

TracedMemory get_traced_memory() noexcept {
  if (!is_tracing()) return {0, 0};
  const auto counters = tracing::counters();
  return {counters.current, counters.peak};
}

void reset_peak() noexcept { tracing::reset_peak(); }

void clear_traces() noexcept {
  untrace_all_blocks();
  untrack_all_blocks();
  tracing::reset_counters();
}

std::size_t get_tracemalloc_memory() noexcept { return trace_table_bytes() + alloc::metadata_bytes(); }

int track(DomainId domain, std::uintptr_t address, std::size_t size) noexcept {
  if (!is_tracing()) return -2;
  const alloc::SiteTag site = tracing::site_for_allocation(1, size);
  tracing::account_freed(to_block_info(untrack_block(domain, address)), tracing::BlockOrigin::OtherDomain);
  if (!track_block(domain, address, size, site)) return -1;
  tracing::account_allocated(site, size, nullptr, tracing::BlockOrigin::OtherDomain);
  return 0;
}

int untrack(DomainId domain, std::uintptr_t address) noexcept {
  if (!is_tracing()) return -2;
  tracing::account_freed(to_block_info(untrack_block(domain, address)), tracing::BlockOrigin::OtherDomain);
  return 0;
}

void set_sampling_rate(std::uint64_t mean_bytes_between_samples) noexcept {
  tracing::g_sample_bytes.store(mean_bytes_between_samples);
}
std::uint64_t get_sampling_rate() noexcept { return tracing::g_sample_bytes.load(); }

Snapshot take_snapshot() {
  if (!is_tracing()) throw std::runtime_error("heapsnap::take_snapshot: tracing is not started");
  return build_snapshot("api");
}

Snapshot take_snapshot_from_site_totals() {
  if (!is_tracing()) throw std::runtime_error("heapsnap::take_snapshot_from_site_totals: tracing is not started");
  return build_snapshot("api", nullptr, LiveBlockSource::SiteCounters);
}

std::optional<Traceback> get_object_traceback(const void* p) { return traceback_of_block(p); }

}  // namespace heapsnap
