#include "profiler/unwind_cache.h"

#include <atomic>

#include "allocator/os.h"

namespace heapsnap {
namespace {

// 256 Ki entries (4 MiB of address space, touched as used): programs have far fewer distinct
// return addresses on allocation paths. A full table just stops learning.
constexpr std::size_t kSlots = std::size_t{1} << 18;
constexpr std::size_t kProbes = 32;

struct Slot {
  std::atomic<std::uintptr_t> address;  // 0 = empty
  std::atomic<std::int32_t> rule;
};

std::atomic<Slot*> g_slots{nullptr};

Slot* slots() noexcept {
  Slot* table = g_slots.load(std::memory_order_acquire);
  if (table != nullptr) return table;
  auto* fresh = static_cast<Slot*>(alloc::os_map_internal(sizeof(Slot) * kSlots));
  if (fresh == nullptr) return nullptr;
  if (!g_slots.compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) {
    alloc::os_unmap_internal(fresh, sizeof(Slot) * kSlots);
    return table;
  }
  return fresh;
}

std::size_t home_of(std::uintptr_t address) noexcept { return (address * 0x9e3779b97f4a7c15ull) >> (64 - 18); }

}  // namespace

std::int32_t unwind_rule_for(std::uintptr_t return_address) noexcept {
  Slot* table = g_slots.load(std::memory_order_acquire);
  if (table == nullptr) return static_cast<std::int32_t>(UnwindRule::Unknown);
  for (std::size_t i = 0, s = home_of(return_address); i < kProbes; ++i, s = (s + 1) & (kSlots - 1)) {
    const std::uintptr_t key = table[s].address.load(std::memory_order_acquire);
    if (key == return_address) return table[s].rule.load(std::memory_order_acquire);
    if (key == 0) break;
  }
  return static_cast<std::int32_t>(UnwindRule::Unknown);
}

void remember_unwind_rule(std::uintptr_t return_address, std::int32_t rule) noexcept {
  Slot* table = slots();
  if (table == nullptr || return_address == 0) return;
  for (std::size_t i = 0, s = home_of(return_address); i < kProbes; ++i, s = (s + 1) & (kSlots - 1)) {
    std::uintptr_t key = table[s].address.load(std::memory_order_acquire);
    if (key == 0 && table[s].address.compare_exchange_strong(key, return_address, std::memory_order_acq_rel)) {
      // Claimed. Until the rule lands a reader sees Unknown (slots start zeroed) and unwinds the slow way.
      table[s].rule.store(rule, std::memory_order_release);
      return;
    }
    if (key == return_address) return;  // learnt by another thread meanwhile (same code, same rule)
  }
}

}  // namespace heapsnap
