#pragma once
// Return address -> how to step to the caller's frame (frame_rule.h), learnt once from the call-frame
// information (cfi_rule.h) and kept, so that the next unwind through the same code costs one lookup
// per frame instead of an FDE search and a CFI interpretation. Lock-free: open addressing, a CAS to
// claim a slot; a full table just stops learning. The lookup is inline: it runs once per frame of
// every captured stack.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/frame_rule.h"

namespace heapsnap {

namespace unwind_cache {
// 256 Ki entries (4 MiB of address space, touched as used): programs have far fewer distinct return
// addresses on allocation paths.
inline constexpr unsigned kSlotBits = 18;
inline constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;
inline constexpr std::size_t kProbes = 32;

struct Slot {
  std::atomic<std::uintptr_t> address;  // 0 = empty
  std::atomic<std::uint64_t> rule;      // FrameRule::pack(); 0 = Unknown
};
extern std::atomic<Slot*> g_slots;

inline std::size_t home_of(std::uintptr_t address) noexcept { return (address * 0x9e3779b97f4a7c15ull) >> (64 - kSlotBits); }
}  // namespace unwind_cache

// The rule learnt for `return_address`; kind Unknown when none is.
inline FrameRule unwind_rule_for(std::uintptr_t return_address) noexcept {
  using namespace unwind_cache;
  const Slot* table = g_slots.load(std::memory_order_acquire);
  if (table == nullptr) return {};
  for (std::size_t i = 0, s = home_of(return_address); i < kProbes; ++i, s = (s + 1) & (kSlots - 1)) {
    const std::uintptr_t key = table[s].address.load(std::memory_order_acquire);
    if (key == return_address) return FrameRule::unpack(table[s].rule.load(std::memory_order_acquire));
    if (key == 0) break;
  }
  return {};
}

void remember_unwind_rule(std::uintptr_t return_address, FrameRule rule) noexcept;

}  // namespace heapsnap
