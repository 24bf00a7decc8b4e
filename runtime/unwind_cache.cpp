#include "runtime/unwind_cache.h"

#include <algorithm>

#include "allocator/os.h"

namespace heapsnap {

namespace unwind_cache {
std::atomic<std::uintptr_t> g_table{0};
}  // namespace unwind_cache

namespace {

using namespace unwind_cache;

// Entries claimed in the current table; reset (approximately, see grow) when it is replaced.
std::atomic<std::size_t> g_used{0};

std::uintptr_t map_table(unsigned bits) noexcept {
  void* memory = alloc::os_map_internal(sizeof(Slot) << bits);
  return memory == nullptr ? 0 : reinterpret_cast<std::uintptr_t>(memory) | bits;
}

Slot* slots_of(std::uintptr_t word) noexcept { return reinterpret_cast<Slot*>(word & ~kBitsMask); }
unsigned bits_of(std::uintptr_t word) noexcept { return static_cast<unsigned>(word & kBitsMask); }

// Claims a slot for `address` in `word`'s table. False when its probe sequence is full.
bool insert(std::uintptr_t word, std::uintptr_t address, std::uint64_t rule) noexcept {
  Slot* table = slots_of(word);
  const unsigned bits = bits_of(word);
  const std::size_t mask = (std::size_t{1} << bits) - 1;
  for (std::size_t i = 0, s = home_of(address, bits); i < kProbes; ++i, s = (s + 1) & mask) {
    std::uintptr_t key = table[s].address.load(std::memory_order_acquire);
    if (key == 0 && table[s].address.compare_exchange_strong(key, address, std::memory_order_acq_rel)) {
      // Claimed. Until the rule lands a reader sees Unknown (slots start zeroed) and learns it again.
      table[s].rule.store(rule, std::memory_order_release);
      g_used.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (key == address) return true;  // learnt by another thread meanwhile (same code, same rule)
  }
  return false;
}

// Replaces the table `old_word` with a larger copy. The old table stays mapped: other threads may be
// reading it now, and it is an eighth of the new one's size at most. An entry another thread adds to
// the old table during the copy is lost and learnt again.
std::uintptr_t grow(std::uintptr_t old_word) noexcept {
  const unsigned bits = std::min(bits_of(old_word) + kGrowthBits, kMaxSlotBits);
  const std::uintptr_t fresh = map_table(bits);
  if (fresh == 0) return old_word;
  const Slot* old_table = slots_of(old_word);
  std::size_t copied = 0;
  for (std::size_t s = 0; s < (std::size_t{1} << bits_of(old_word)); ++s) {
    const std::uintptr_t address = old_table[s].address.load(std::memory_order_acquire);
    const std::uint64_t rule = old_table[s].rule.load(std::memory_order_acquire);
    if (address == 0 || rule == 0) continue;
    Slot* table = slots_of(fresh);
    const std::size_t mask = (std::size_t{1} << bits) - 1;
    std::size_t slot = home_of(address, bits);
    while (table[slot].address.load(std::memory_order_relaxed) != 0) slot = (slot + 1) & mask;
    table[slot].address.store(address, std::memory_order_relaxed);
    table[slot].rule.store(rule, std::memory_order_relaxed);
    ++copied;
  }
  std::uintptr_t expected = old_word;
  if (!g_table.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
    alloc::os_unmap_internal(slots_of(fresh), sizeof(Slot) << bits);  // never published
    return expected;
  }
  g_used.store(copied, std::memory_order_relaxed);
  return fresh;
}

std::uintptr_t current_table() noexcept {
  std::uintptr_t word = g_table.load(std::memory_order_acquire);
  if (word != 0) return word;
  const std::uintptr_t fresh = map_table(kFirstSlotBits);
  if (fresh == 0) return 0;
  if (!g_table.compare_exchange_strong(word, fresh, std::memory_order_acq_rel)) {
    alloc::os_unmap_internal(slots_of(fresh), sizeof(Slot) << kFirstSlotBits);
    return word;
  }
  return fresh;
}

}  // namespace

void remember_unwind_rule(std::uintptr_t return_address, FrameRule rule) noexcept {
  std::uintptr_t word = current_table();
  if (word == 0 || return_address == 0) return;
  // Half full: grow before probe sequences get long.
  if (bits_of(word) < kMaxSlotBits && (g_used.load(std::memory_order_relaxed) + 1) * 2 > (std::size_t{1} << bits_of(word))) word = grow(word);
  if (insert(word, return_address, rule.pack())) return;
  if (bits_of(word) < kMaxSlotBits) insert(grow(word), return_address, rule.pack());
  // else: the largest table's probe sequence is full; this address is unwound without the cache.
}

std::size_t unwind_rules_learnt() noexcept { return g_used.load(std::memory_order_relaxed); }

}  // namespace heapsnap
