#include "runtime/site_counters.h"

#include <pthread.h>

#include <atomic>

#include "allocator/os.h"

namespace heapsnap::site_counters {
namespace {

constexpr std::uint32_t kLeafSites = 1024;
constexpr std::uint32_t kLeaves = kMaxSites / kLeafSites;
constexpr std::uint32_t kFirstSite = static_cast<std::uint32_t>(alloc::SiteTag::FirstTraced);

// One writer per table (its thread): updates are a relaxed load and store, not a read-modify-write.
struct Counter {
  std::atomic<std::int64_t> bytes{0};
  std::atomic<std::int64_t> blocks{0};
};
struct Leaf {
  Counter sites[kLeafSites];
};
struct ThreadTable {
  std::atomic<Leaf*> leaves[kLeaves];
  std::atomic<std::uint64_t> calls{0};
  ThreadTraced traced;
  std::atomic<bool> in_use{true};
  ThreadTable* next = nullptr;  // registry link, set once before publication
};

std::atomic<ThreadTable*> g_tables{nullptr};  // every table ever made; never freed
std::atomic<bool> g_overflow{false};
pthread_key_t g_release_key;
std::atomic<bool> g_key_made{false};

[[gnu::tls_model("initial-exec")]] constinit thread_local ThreadTable* tl_table = nullptr;

void release_table(void* table) {
  static_cast<ThreadTable*>(table)->in_use.store(false, std::memory_order_release);
  tl_table = nullptr;
}

[[gnu::constructor]] void make_release_key() {
  if (pthread_key_create(&g_release_key, release_table) == 0) g_key_made.store(true);
}

template <typename T>
T* map_zeroed() noexcept {
  constexpr std::size_t kPage = 4096;
  void* memory = alloc::os_map_internal((sizeof(T) + kPage - 1) / kPage * kPage);
  return memory == nullptr ? nullptr : new (memory) T();
}

[[gnu::noinline]] ThreadTable* acquire_table() noexcept {
  ThreadTable* table = nullptr;
  for (ThreadTable* t = g_tables.load(std::memory_order_acquire); t != nullptr; t = t->next) {
    bool free = false;
    if (!t->in_use.load(std::memory_order_relaxed) && t->in_use.compare_exchange_strong(free, true)) {
      table = t;
      break;
    }
  }
  if (table == nullptr) {
    table = map_zeroed<ThreadTable>();
    if (table == nullptr) return nullptr;
    table->next = g_tables.load(std::memory_order_relaxed);
    while (!g_tables.compare_exchange_weak(table->next, table, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }
  tl_table = table;
  if (g_key_made.load(std::memory_order_relaxed)) pthread_setspecific(g_release_key, table);
  return table;
}

// The calling thread's table, made or reused on its first use; null when none can be mapped.
[[gnu::always_inline]] inline ThreadTable* own_table() noexcept {
  if (ThreadTable* table = tl_table) [[likely]] return table;
  return acquire_table();
}

[[gnu::always_inline]] inline Counter* counter_for(alloc::SiteTag site) noexcept {
  const std::uint32_t index = static_cast<std::uint32_t>(site) - kFirstSite;
  if (index >= kMaxSites) [[unlikely]] {
    g_overflow.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  ThreadTable* table = own_table();
  if (table == nullptr) [[unlikely]] {
    g_overflow.store(true, std::memory_order_relaxed);
    return nullptr;
  }
  std::atomic<Leaf*>& slot = table->leaves[index / kLeafSites];
  Leaf* leaf = slot.load(std::memory_order_relaxed);
  if (leaf == nullptr) [[unlikely]] {
    leaf = map_zeroed<Leaf>();
    if (leaf == nullptr) {
      g_overflow.store(true, std::memory_order_relaxed);
      return nullptr;
    }
    slot.store(leaf, std::memory_order_release);  // only this thread writes its slots
  }
  return &leaf->sites[index % kLeafSites];
}

void add(alloc::SiteTag site, std::int64_t bytes, std::int64_t blocks) noexcept {
  if (Counter* counter = counter_for(site)) {
    counter->bytes.store(counter->bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
    counter->blocks.store(counter->blocks.load(std::memory_order_relaxed) + blocks, std::memory_order_relaxed);
  }
}

}  // namespace

void allocated(alloc::SiteTag site, std::int64_t bytes) noexcept { add(site, bytes, 1); }
void freed(alloc::SiteTag site, std::int64_t bytes) noexcept { add(site, -bytes, -1); }

void count_call() noexcept {
  ThreadTable* table = own_table();
  if (table == nullptr) [[unlikely]] return;
  table->calls.store(table->calls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

ThreadTraced* thread_traced() noexcept {
  ThreadTable* table = own_table();
  return table != nullptr ? &table->traced : nullptr;
}

std::int64_t traced_bytes_sum() noexcept {
  std::int64_t sum = 0;
  for (const ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next)
    sum += table->traced.bytes.load(std::memory_order_relaxed);
  return sum;
}

bool live_by_site(std::vector<SiteTotal>& out) {
  if (g_overflow.load(std::memory_order_relaxed)) return false;
  std::vector<std::int64_t> bytes;
  std::vector<std::int64_t> blocks;
  for (const ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next) {
    for (std::uint32_t l = 0; l < kLeaves; ++l) {
      const Leaf* leaf = table->leaves[l].load(std::memory_order_acquire);
      if (leaf == nullptr) continue;
      const std::size_t needed = std::size_t{l + 1} * kLeafSites;
      if (bytes.size() < needed) {
        bytes.resize(needed);
        blocks.resize(needed);
      }
      for (std::uint32_t s = 0; s < kLeafSites; ++s) {
        bytes[std::size_t{l} * kLeafSites + s] += leaf->sites[s].bytes.load(std::memory_order_relaxed);
        blocks[std::size_t{l} * kLeafSites + s] += leaf->sites[s].blocks.load(std::memory_order_relaxed);
      }
    }
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (blocks[i] > 0 && bytes[i] >= 0) {
      out.push_back({static_cast<alloc::SiteTag>(static_cast<std::uint32_t>(i) + kFirstSite), bytes[i], blocks[i]});
    }
  }
  return true;
}

std::int64_t live_blocks() noexcept {
  std::int64_t blocks = 0;
  for (const ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next) {
    for (const auto& slot : table->leaves) {
      const Leaf* leaf = slot.load(std::memory_order_acquire);
      if (leaf == nullptr) continue;
      for (const Counter& counter : leaf->sites) blocks += counter.blocks.load(std::memory_order_relaxed);
    }
  }
  return blocks;
}

std::uint64_t allocation_calls() noexcept {
  std::uint64_t calls = 0;
  for (const ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next) {
    calls += table->calls.load(std::memory_order_relaxed);
  }
  return calls;
}

void reset() noexcept {
  for (ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next) {
    table->calls.store(0, std::memory_order_relaxed);
    table->traced.bytes.store(0, std::memory_order_relaxed);
    for (auto& slot : table->leaves) {
      Leaf* leaf = slot.load(std::memory_order_acquire);
      if (leaf == nullptr) continue;
      for (Counter& counter : leaf->sites) {
        counter.bytes.store(0, std::memory_order_relaxed);
        counter.blocks.store(0, std::memory_order_relaxed);
      }
    }
  }
  g_overflow.store(false, std::memory_order_relaxed);
}

}  // namespace heapsnap::site_counters
