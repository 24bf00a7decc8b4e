#include "runtime/unwind_cache.h"

#include "allocator/os.h"

namespace heapsnap {

namespace unwind_cache {
std::atomic<Slot*> g_slots{nullptr};
}  // namespace unwind_cache

namespace {

using unwind_cache::g_slots;
using unwind_cache::home_of;
using unwind_cache::kProbes;
using unwind_cache::kSlots;
using unwind_cache::Slot;

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

}  // namespace

void remember_unwind_rule(std::uintptr_t return_address, FrameRule rule) noexcept {
  Slot* table = slots();
  if (table == nullptr || return_address == 0) return;
  for (std::size_t i = 0, s = home_of(return_address); i < kProbes; ++i, s = (s + 1) & (kSlots - 1)) {
    std::uintptr_t key = table[s].address.load(std::memory_order_acquire);
    if (key == 0 && table[s].address.compare_exchange_strong(key, return_address, std::memory_order_acq_rel)) {
      // Claimed. Until the rule lands a reader sees Unknown (slots start zeroed) and learns it again.
      table[s].rule.store(rule.pack(), std::memory_order_release);
      return;
    }
    if (key == return_address) return;  // learnt by another thread meanwhile (same code, same rule)
  }
}

}  // namespace heapsnap
