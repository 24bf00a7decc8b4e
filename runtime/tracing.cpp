#include "runtime/tracing.h"

#include <cmath>

#include "runtime/recursion_guard.h"
#include "runtime/site_counters.h"
#include "runtime/stack_capture.h"
#include "runtime/trace_table.h"
#include "runtime/traced_memory.h"

namespace heapsnap::tracing {
namespace {


// Sampling state of a thread: its byte countdown and its random generator (xorshift64*).
[[gnu::tls_model("initial-exec")]] constinit thread_local std::int64_t tl_bytes_until_sample = 0;
[[gnu::tls_model("initial-exec")]] constinit thread_local std::uint64_t tl_random = 0;

std::int64_t next_sample_distance(std::uint64_t rate) noexcept {
  if (tl_random == 0) tl_random = (reinterpret_cast<std::uintptr_t>(&tl_random) * 0x9e3779b97f4a7c15ull) | 1;
  tl_random ^= tl_random >> 12;
  tl_random ^= tl_random << 25;
  tl_random ^= tl_random >> 27;
  const double uniform = static_cast<double>((tl_random * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;  // [0, 1)
  return static_cast<std::int64_t>(-std::log1p(-uniform) * static_cast<double>(rate)) + 1;
}

// False for an allocation that sampling skips.
[[gnu::always_inline]] inline bool sampled(std::size_t size) noexcept {
  const std::uint64_t rate = g_sample_bytes.load(std::memory_order_relaxed);
  if (rate == 0) [[likely]] return true;
  if (tl_random == 0) tl_bytes_until_sample = next_sample_distance(rate);  // first use on this thread
  tl_bytes_until_sample -= static_cast<std::int64_t>(size == 0 ? 1 : size);
  if (tl_bytes_until_sample > 0) return false;
  tl_bytes_until_sample = next_sample_distance(rate);
  return true;
}

}  // namespace

// The bytes a traced block counts for: its size, or its sampling weight when sampling.
[[gnu::always_inline]] inline std::int64_t counted_bytes(std::size_t size) noexcept {
  if (g_sample_bytes.load(std::memory_order_relaxed) == 0) [[likely]] return static_cast<std::int64_t>(size);
  return static_cast<std::int64_t>(std::llround(sample_weight(size)));
}

double sample_weight(std::size_t size) noexcept {
  const std::uint64_t rate = g_sample_bytes.load(std::memory_order_relaxed);
  if (rate == 0) return static_cast<double>(size);
  const double bytes = static_cast<double>(size == 0 ? 1 : size);
  return bytes / -std::expm1(-bytes / static_cast<double>(rate));
}

[[gnu::noinline]] alloc::SiteTag traced_site_for_allocation(std::uint32_t skip, std::size_t size) noexcept {
  if (!sampled(size)) return alloc::SiteTag::Untraced;
  RecursionGuard guard;
  CapturedStack stack;
  capture_stack(stack, g_depth.load(std::memory_order_relaxed), skip + 1);  // +1: this function
  return intern_stack(stack);
}

void account_traced_allocation(alloc::SiteTag site, std::size_t requested, const void* address, BlockOrigin origin) noexcept {
  // The program's calls only: heapsnap's own allocations (building a snapshot) are Internal.
  if (site != alloc::SiteTag::Internal && origin == BlockOrigin::Arena && g_enabled.load(std::memory_order_relaxed)) {
    site_counters::count_call();
  }
  if (!is_traced(site)) return;
  const std::int64_t bytes = counted_bytes(requested);
  if (origin == BlockOrigin::Arena) site_counters::allocated(site, bytes, address);
  traced_memory::add(bytes);
}

void account_traced_free(const alloc::BlockInfo& block, BlockOrigin origin) noexcept {
  const std::int64_t bytes = counted_bytes(block.requested);
  traced_memory::add(-bytes);
  if (origin == BlockOrigin::Arena) site_counters::freed(block.site, bytes, block.address);
}

Counters counters() noexcept {
  const traced_memory::Totals totals = traced_memory::totals();  // signed: a block traced before a reset may be freed after it
  return {static_cast<std::size_t>(totals.current < 0 ? 0 : totals.current), static_cast<std::size_t>(totals.peak < 0 ? 0 : totals.peak)};
}

void reset_peak() noexcept { traced_memory::reset_peak(); }

void reset_counters() noexcept {
  site_counters::reset();
  traced_memory::reset();
}

}  // namespace heapsnap::tracing
