#pragma once
// Return address -> how to step to the caller's frame (frame_rule.h), learnt once from the call-frame
// information (cfi_rule.h) and kept, so that the next unwind through the same code costs one lookup
// per frame instead of an FDE search and a CFI interpretation. Lock-free: open addressing, a CAS to
// claim a slot. The lookup is inline: it runs once per frame of every captured stack.
//
// The table starts small and is replaced by one eight times larger when half full, up to 256 Ki
// entries. Slots are hashed at random over the table, so every entry of a large table is a page of
// its own to fault in: a fixed 4 MiB table cost a small process one page fault per return address it
// learnt (50 for a tiny test program, 800 for ctest), most of what its unwinding cost.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/frame_rule.h"

namespace heapsnap {

namespace unwind_cache {
inline constexpr unsigned kFirstSlotBits = 10;  // 16 KiB
inline constexpr unsigned kMaxSlotBits = 18;    // 4 MiB
inline constexpr unsigned kGrowthBits = 3;
inline constexpr std::size_t kProbes = 32;

struct Slot {
  std::atomic<std::uintptr_t> address;  // 0 = empty
  std::atomic<std::uint64_t> rule;      // FrameRule::pack(); 0 = Unknown
};

// The current table's address (page-aligned) with its log2 slot count in the low bits: a lookup reads
// one word to learn both. 0 = no table yet.
extern std::atomic<std::uintptr_t> g_table;
inline constexpr std::uintptr_t kBitsMask = 0xff;

inline std::size_t home_of(std::uintptr_t address, unsigned bits) noexcept {
  return (address * 0x9e3779b97f4a7c15ull) >> (64 - bits);
}
}  // namespace unwind_cache

// The rule learnt for `return_address`, packed (FrameRule::pack); 0 (Unknown) when none is. The
// unwinder compares it whole with the common rule before unpacking anything.
inline std::uint64_t packed_unwind_rule_for(std::uintptr_t return_address) noexcept {
  using namespace unwind_cache;
  const std::uintptr_t word = g_table.load(std::memory_order_acquire);
  if (word == 0) return 0;
  const auto* table = reinterpret_cast<const Slot*>(word & ~kBitsMask);
  const auto bits = static_cast<unsigned>(word & kBitsMask);
  const std::size_t mask = (std::size_t{1} << bits) - 1;
  for (std::size_t i = 0, s = home_of(return_address, bits); i < kProbes; ++i, s = (s + 1) & mask) {
    const std::uintptr_t key = table[s].address.load(std::memory_order_acquire);
    if (key == return_address) return table[s].rule.load(std::memory_order_acquire);
    if (key == 0) break;
  }
  return 0;
}

// The rule learnt for `return_address`; kind Unknown when none is.
inline FrameRule unwind_rule_for(std::uintptr_t return_address) noexcept {
  return FrameRule::unpack(packed_unwind_rule_for(return_address));
}

void remember_unwind_rule(std::uintptr_t return_address, FrameRule rule) noexcept;

// Entries the current table holds (for tests).
std::size_t unwind_rules_learnt() noexcept;

}  // namespace heapsnap
