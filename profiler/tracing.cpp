#include "profiler/tracing.h"

#include "profiler/recursion_guard.h"
#include "profiler/stack_capture.h"
#include "profiler/trace_table.h"

namespace heapsnap::tracing {
namespace {

// Signed: a block traced before reset_counters() may be freed after it.
std::atomic<std::int64_t> g_current{0};
std::atomic<std::int64_t> g_peak{0};

bool is_traced(alloc::SiteTag site) { return site >= alloc::SiteTag::FirstTraced; }

}  // namespace

[[gnu::noinline]] alloc::SiteTag site_for_allocation(std::uint32_t skip) noexcept {
  if (tl_inside_heapsnap) [[unlikely]] return alloc::SiteTag::Internal;
  if (!g_enabled.load(std::memory_order_relaxed)) return alloc::SiteTag::Untraced;
  RecursionGuard guard;
  CapturedStack stack;
  capture_stack(stack, g_depth.load(std::memory_order_relaxed), skip + 1);  // +1: this function
  return intern_stack(stack);
}

void account_allocated(alloc::SiteTag site, std::size_t requested) noexcept {
  if (!is_traced(site)) return;
  const std::int64_t now = g_current.fetch_add(static_cast<std::int64_t>(requested), std::memory_order_relaxed) +
                           static_cast<std::int64_t>(requested);
  std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void account_freed(const alloc::BlockInfo& block) noexcept {
  if (is_traced(block.site)) g_current.fetch_sub(static_cast<std::int64_t>(block.requested), std::memory_order_relaxed);
}

Counters counters() noexcept {
  const std::int64_t current = g_current.load(std::memory_order_relaxed);
  const std::int64_t peak = g_peak.load(std::memory_order_relaxed);
  return {static_cast<std::size_t>(current < 0 ? 0 : current), static_cast<std::size_t>(peak < current ? current : peak)};
}

void reset_peak() noexcept { g_peak.store(g_current.load(std::memory_order_relaxed), std::memory_order_relaxed); }

void reset_counters() noexcept {
  g_current.store(0, std::memory_order_relaxed);
  g_peak.store(0, std::memory_order_relaxed);
}

}  // namespace heapsnap::tracing
