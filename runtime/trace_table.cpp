#include "runtime/trace_table.h"

#include <sched.h>

#include <atomic>
#include <bit>
#include <cstring>

#include "allocator/os.h"

namespace heapsnap {
namespace {

using alloc::SiteTag;

constexpr std::uint32_t kFirstId = static_cast<std::uint32_t>(SiteTag::FirstTraced);
constexpr std::size_t kIndexChunkBits = 16;
constexpr std::size_t kIndexChunks = 1024;  // up to 64 Mi distinct stacks
constexpr std::size_t kArenaChunkBytes = std::size_t{1} << 20;
constexpr std::size_t kThreadCacheEntries = 256;

// Lock-free readers go through the index; only interning takes g_lock.
std::atomic<const TraceRecord**> g_index[kIndexChunks] = {};
std::atomic<std::uint32_t> g_count{0};  // records published
std::atomic<std::size_t> g_bytes{0};
std::atomic_flag g_lock = ATOMIC_FLAG_INIT;

// Guarded by g_lock:
std::byte* g_arena = nullptr;       // current chunk for records
std::size_t g_arena_left = 0;
std::uint32_t* g_slots = nullptr;   // open addressing: record index + 1, 0 = empty
std::size_t g_slot_count = 0;       // power of two

struct CacheEntry {
  std::uint64_t hash;
  std::uint32_t tag;
};
[[gnu::tls_model("initial-exec")]] constinit thread_local CacheEntry tl_cache[kThreadCacheEntries] = {};

class SpinLock {
 public:
  SpinLock() noexcept {
    while (g_lock.test_and_set(std::memory_order_acquire)) sched_yield();
  }
  ~SpinLock() { g_lock.clear(std::memory_order_release); }
};

void* map_zeroed(std::size_t bytes) noexcept {
  void* p = alloc::os_map_internal(bytes);
  if (p != nullptr) g_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return p;
}

// Four independent lanes, one frame each in turn, mixed at the end: one chain of multiplies through
// every frame cost a multiply's latency per frame, most of the interning of a deep stack.
std::uint64_t hash_stack(const CapturedStack& stack) noexcept {
  constexpr std::uint64_t kMultiplier = 0x9e3779b97f4a7c15ull;
  std::uint64_t lane[4] = {0x243f6a8885a308d3ull ^ stack.depth, 0x13198a2e03707344ull ^ stack.total, 0xa4093822299f31d0ull,
                           0x082efa98ec4e6c89ull};
  std::uint32_t i = 0;
  for (; i + 4 <= stack.depth; i += 4)
    for (int l = 0; l < 4; ++l) lane[l] = (lane[l] ^ stack.frames[i + l]) * kMultiplier;
  for (int l = 0; i < stack.depth; ++i, ++l) lane[l] = (lane[l] ^ stack.frames[i]) * kMultiplier;
  std::uint64_t h = lane[0] ^ std::rotl(lane[1], 16) ^ std::rotl(lane[2], 32) ^ std::rotl(lane[3], 48);
  h = (h ^ (h >> 29)) * kMultiplier;
  h ^= h >> 32;
  return h | 1;  // never 0: 0 marks an empty cache entry
}

bool same_stack(const TraceRecord& record, std::uint64_t hash, const CapturedStack& stack) noexcept {
  return record.hash == hash && record.depth == stack.depth && record.total == stack.total &&
         std::memcmp(record.frames, stack.frames, sizeof(std::uintptr_t) * stack.depth) == 0;
}

const TraceRecord* record_at(std::uint32_t index) noexcept {
  const TraceRecord** chunk = g_index[index >> kIndexChunkBits].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : chunk[index & ((1u << kIndexChunkBits) - 1)];
}

bool grow_slots_unlocked() noexcept {
  const std::size_t count = g_slot_count == 0 ? 4096 : g_slot_count * 2;
  auto* slots = static_cast<std::uint32_t*>(map_zeroed(count * sizeof(std::uint32_t)));
  if (slots == nullptr) return false;
  for (std::size_t i = 0; i < g_slot_count; ++i) {
    if (g_slots[i] == 0) continue;
    std::size_t s = record_at(g_slots[i] - 1)->hash & (count - 1);
    while (slots[s] != 0) s = (s + 1) & (count - 1);
    slots[s] = g_slots[i];
  }
  if (g_slots != nullptr) {
    alloc::os_unmap_internal(g_slots, g_slot_count * sizeof(std::uint32_t));
    g_bytes.fetch_sub(g_slot_count * sizeof(std::uint32_t), std::memory_order_relaxed);
  }
  g_slots = slots;
  g_slot_count = count;
  return true;
}

TraceRecord* new_record_unlocked(std::uint64_t hash, const CapturedStack& stack) noexcept {
  const std::size_t bytes = (offsetof(TraceRecord, frames) + sizeof(std::uintptr_t) * (stack.depth ? stack.depth : 1) + 7) & ~std::size_t{7};
  if (bytes > g_arena_left) {
    if ((g_arena = static_cast<std::byte*>(map_zeroed(kArenaChunkBytes))) == nullptr) return nullptr;
    g_arena_left = kArenaChunkBytes;
  }
  auto* record = reinterpret_cast<TraceRecord*>(g_arena);
  g_arena += bytes;
  g_arena_left -= bytes;
  record->hash = hash;
  record->depth = stack.depth;
  record->total = stack.total;
  std::memcpy(record->frames, stack.frames, sizeof(std::uintptr_t) * stack.depth);
  return record;
}

SiteTag intern_unlocked(std::uint64_t hash, const CapturedStack& stack) noexcept {
  if (g_slot_count == 0 || (g_count.load(std::memory_order_relaxed) + 1) * 2 > g_slot_count)
    if (!grow_slots_unlocked()) return SiteTag::Untraced;
  std::size_t s = hash & (g_slot_count - 1);
  for (; g_slots[s] != 0; s = (s + 1) & (g_slot_count - 1))
    if (same_stack(*record_at(g_slots[s] - 1), hash, stack)) return static_cast<SiteTag>(g_slots[s] - 1 + kFirstId);

  const std::uint32_t index = g_count.load(std::memory_order_relaxed);
  if (index >= (kIndexChunks << kIndexChunkBits)) return SiteTag::Untraced;
  std::atomic<const TraceRecord**>& chunk_slot = g_index[index >> kIndexChunkBits];
  if (chunk_slot.load(std::memory_order_relaxed) == nullptr) {
    auto* chunk = static_cast<const TraceRecord**>(map_zeroed(sizeof(TraceRecord*) << kIndexChunkBits));
    if (chunk == nullptr) return SiteTag::Untraced;
    chunk_slot.store(chunk, std::memory_order_release);
  }
  TraceRecord* record = new_record_unlocked(hash, stack);
  if (record == nullptr) return SiteTag::Untraced;
  chunk_slot.load(std::memory_order_relaxed)[index & ((1u << kIndexChunkBits) - 1)] = record;
  g_slots[s] = index + 1;
  g_count.store(index + 1, std::memory_order_release);  // publishes the record to lock-free readers
  return static_cast<SiteTag>(index + kFirstId);
}

}  // namespace

alloc::SiteTag intern_stack(const CapturedStack& stack) noexcept {
  const std::uint64_t hash = hash_stack(stack);
  CacheEntry& entry = tl_cache[hash % kThreadCacheEntries];
  if (entry.hash == hash) {
    const TraceRecord* record = trace_record(static_cast<SiteTag>(entry.tag));
    if (record != nullptr && same_stack(*record, hash, stack)) [[likely]] return static_cast<SiteTag>(entry.tag);
  }
  SiteTag tag;
  {
    SpinLock lock;
    tag = intern_unlocked(hash, stack);
  }
  if (tag != SiteTag::Untraced) entry = {hash, static_cast<std::uint32_t>(tag)};
  return tag;
}

const TraceRecord* trace_record(alloc::SiteTag tag) noexcept {
  const auto id = static_cast<std::uint32_t>(tag);
  if (id < kFirstId) return nullptr;
  const std::uint32_t index = id - kFirstId;
  if (index >= g_count.load(std::memory_order_acquire)) return nullptr;
  return record_at(index);
}

std::size_t interned_trace_count() noexcept { return g_count.load(std::memory_order_acquire); }
std::size_t trace_table_bytes() noexcept { return g_bytes.load(std::memory_order_relaxed); }

void trace_table_before_fork() noexcept {
  while (g_lock.test_and_set(std::memory_order_acquire)) sched_yield();
}
void trace_table_after_fork() noexcept { g_lock.clear(std::memory_order_release); }

}  // namespace heapsnap
