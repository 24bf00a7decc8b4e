#include "profiler/tracing.h"

#include <cmath>

#include "profiler/recursion_guard.h"
#include "profiler/site_counters.h"
#include "profiler/stack_capture.h"
#include "profiler/trace_table.h"

namespace heapsnap::tracing {
namespace {

// Signed: a block traced before reset_counters() may be freed after it.
std::atomic<std::int64_t> g_current{0};
std::atomic<std::int64_t> g_peak{0};

bool is_traced(alloc::SiteTag site) { return site >= alloc::SiteTag::FirstTraced; }


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

double sample_weight(std::size_t size) noexcept {
  const std::uint64_t rate = g_sample_bytes.load(std::memory_order_relaxed);
  if (rate == 0) return static_cast<double>(size);
  const double bytes = static_cast<double>(size == 0 ? 1 : size);
  return bytes / -std::expm1(-bytes / static_cast<double>(rate));
}

[[gnu::noinline]] alloc::SiteTag site_for_allocation(std::uint32_t skip, std::size_t size) noexcept {
  if (tl_inside_heapsnap) [[unlikely]] return alloc::SiteTag::Internal;
  if (!g_enabled.load(std::memory_order_relaxed)) return alloc::SiteTag::Untraced;
  if (!sampled(size)) return alloc::SiteTag::Untraced;
  RecursionGuard guard;
  CapturedStack stack;
  capture_stack(stack, g_depth.load(std::memory_order_relaxed), skip + 1);  // +1: this function
  return intern_stack(stack);
}

void account_allocated(alloc::SiteTag site, std::size_t requested, BlockOrigin origin) noexcept {
  // The program's calls only: heapsnap's own allocations (building a snapshot) are Internal.
  if (site != alloc::SiteTag::Internal && origin == BlockOrigin::Arena && g_enabled.load(std::memory_order_relaxed)) {
    site_counters::count_call();
  }
  if (!is_traced(site)) return;
  const auto bytes = static_cast<std::int64_t>(std::llround(sample_weight(requested)));
  if (origin == BlockOrigin::Arena) site_counters::allocated(site, bytes);
  const std::int64_t now = g_current.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void account_freed(const alloc::BlockInfo& block, BlockOrigin origin) noexcept {
  if (!is_traced(block.site)) return;
  const auto bytes = static_cast<std::int64_t>(std::llround(sample_weight(block.requested)));
  g_current.fetch_sub(bytes, std::memory_order_relaxed);
  if (origin == BlockOrigin::Arena) site_counters::freed(block.site, bytes);
}

Counters counters() noexcept {
  const std::int64_t current = g_current.load(std::memory_order_relaxed);
  const std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  return {static_cast<std::size_t>(current < 0 ? 0 : current), static_cast<std::size_t>(peak < current ? current : peak)};
}

void reset_peak() noexcept { g_peak.store(g_current.load(std::memory_order_relaxed), std::memory_order_relaxed); }

void reset_counters() noexcept {
  site_counters::reset();
  g_current.store(0, std::memory_order_relaxed);
  g_peak.store(0, std::memory_order_relaxed);
}

}  // namespace heapsnap::tracing
