#include "runtime/site_counters.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <span>

#include "allocator/os.h"

namespace heapsnap::site_counters {
namespace {

constexpr std::uint32_t kLeafSites = 1024;
constexpr std::uint32_t kLeaves = kMaxSites / kLeafSites;
constexpr std::uint32_t kFirstSite = static_cast<std::uint32_t>(alloc::SiteTag::FirstTraced);

// Counters and leaf slots are plain words in zeroed pages from the kernel, read and written through
// atomic_ref: constructing them (std::atomic's constructor stores its zero) would touch every page of
// a 40 KiB leaf and of the 32 KiB slot array in every thread of every process, a page fault each,
// where untouched pages cost nothing until a site uses them.
template <typename T>
[[gnu::always_inline]] inline T read(const T& word, std::memory_order order = std::memory_order_relaxed) noexcept {
  return std::atomic_ref<T>(const_cast<T&>(word)).load(order);
}
template <typename T>
[[gnu::always_inline]] inline void write(T& word, T value, std::memory_order order = std::memory_order_relaxed) noexcept {
  std::atomic_ref<T>(word).store(value, order);
}

// One writer per table (its thread): updates are a relaxed load and store, not a read-modify-write.
struct Counter {
  std::int64_t bytes;  // live
  std::int64_t blocks;
  std::uint64_t allocated;  // since tracing started
  std::uint64_t calls;
  std::uint64_t temporary;
};
struct Leaf {
  Counter sites[kLeafSites];
};
struct ThreadTable {
  std::atomic<std::uint64_t> calls{0};
  const void* last_allocation = nullptr;  // this thread's last traced allocation, until its next free
  std::uint32_t sites_seen = 0;  // the highest site index this thread counted, plus one (it alone writes it)
  ThreadTraced traced;
  std::atomic<bool> in_use{true};
  ThreadTable* next = nullptr;  // registry link, set once before publication

  // The kLeaves leaf slots follow the table in its mapping (null until the leaf is made).
  Leaf*& leaf_slot(std::uint32_t l) noexcept { return reinterpret_cast<Leaf**>(this + 1)[l]; }
  const Leaf* leaf(std::uint32_t l) const noexcept {
    return read(reinterpret_cast<Leaf* const*>(this + 1)[l], std::memory_order_acquire);
  }
};
constexpr std::size_t kTableBytes = sizeof(ThreadTable) + kLeaves * sizeof(Leaf*);
static_assert(sizeof(ThreadTable) % alignof(Leaf*) == 0);

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

// Zeroed pages for `bytes`, from the kernel: they read as zero without being written.
void* map_zeroed(std::size_t bytes) noexcept {
  constexpr std::size_t kPage = 4096;
  return alloc::os_map_internal((bytes + kPage - 1) / kPage * kPage);
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
    void* memory = map_zeroed(kTableBytes);
    if (memory == nullptr) return nullptr;
    table = new (memory) ThreadTable();  // its first page only: the leaf slots after it stay untouched
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
  if (index >= table->sites_seen) [[unlikely]] write(table->sites_seen, index + 1);
  Leaf*& slot = table->leaf_slot(index / kLeafSites);
  Leaf* leaf = slot;  // only this thread writes its slots
  if (leaf == nullptr) [[unlikely]] {
    leaf = static_cast<Leaf*>(map_zeroed(sizeof(Leaf)));  // every counter zero, as it starts
    if (leaf == nullptr) {
      g_overflow.store(true, std::memory_order_relaxed);
      return nullptr;
    }
    write(slot, leaf, std::memory_order_release);
  }
  return &leaf->sites[index % kLeafSites];
}

template <typename T>
[[gnu::always_inline]] inline void bump(T& counter, T by) noexcept {
  write(counter, read(counter) + by);
}

// The per-site live totals of a peak view: dense by site index, in heapsnap's own memory.
struct PeakSlot {
  std::int64_t bytes;
  std::int64_t blocks;
};
struct StoredView {
  PeakSlot* slots = nullptr;  // kMaxSites slots, mapped on the first capture (untouched pages cost nothing)
  std::uint32_t used = 0;     // slots the view fills
  std::int64_t total = 0;
};
StoredView g_views[2];                 // indexed by PeakWindow
std::atomic<bool> g_peak_busy{false};  // a capture, a copy or a clear under way

StoredView& stored(PeakWindow window) { return g_views[static_cast<int>(window)]; }

// Holds g_peak_busy for its scope: waits for a capture or a copy by another thread to end.
class ViewsLock {
 public:
  ViewsLock() {
    bool expected = false;
    while (!g_peak_busy.compare_exchange_weak(expected, true, std::memory_order_acquire)) {
      expected = false;
      sched_yield();
    }
  }
  ~ViewsLock() { g_peak_busy.store(false, std::memory_order_release); }
  ViewsLock(const ViewsLock&) = delete;
  ViewsLock& operator=(const ViewsLock&) = delete;
};

// The highest site index any thread counted, plus one: how far the dense sums go (the sites beyond
// it were never touched, and reading their zero pages would fault them in).
std::uint32_t sites_in_use() noexcept {
  std::uint32_t used = 0;
  for (const ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next)
    used = std::max(used, read(table->sites_seen));
  return used;
}

// Calls visit(leaf, index, sites) for every leaf of every thread's table that holds some of the
// first `sites` sites; `sites` is how many of the leaf's counters are among them.
template <typename Visit>
void for_each_leaf(std::uint32_t sites, Visit visit) noexcept {
  const std::uint32_t leaves = (sites + kLeafSites - 1) / kLeafSites;
  for (const ThreadTable* table = g_tables.load(std::memory_order_acquire); table != nullptr; table = table->next) {
    for (std::uint32_t l = 0; l < leaves; ++l) {
      if (const Leaf* leaf = table->leaf(l)) visit(*leaf, l, std::min(kLeafSites, sites - l * kLeafSites));
    }
  }
}

}  // namespace

void allocated(alloc::SiteTag site, std::int64_t bytes, const void* address) noexcept {
  if (Counter* counter = counter_for(site)) [[likely]] {
    bump(counter->bytes, bytes);
    bump(counter->blocks, std::int64_t{1});
    bump(counter->allocated, static_cast<std::uint64_t>(bytes));
    bump(counter->calls, std::uint64_t{1});
    tl_table->last_allocation = address;  // counter_for made the table
  }
}

void freed(alloc::SiteTag site, std::int64_t bytes, const void* address) noexcept {
  if (Counter* counter = counter_for(site)) [[likely]] {
    bump(counter->bytes, -bytes);
    bump(counter->blocks, std::int64_t{-1});
    // Temporary only when this free is the thread's next event after the allocation: any free in
    // between ends the chance, as heaptrack's count does (which is per process, this per thread).
    if (tl_table->last_allocation == address) bump(counter->temporary, std::uint64_t{1});
    tl_table->last_allocation = nullptr;
  }
}

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
  const std::uint32_t sites = sites_in_use();
  std::vector<std::int64_t> bytes(sites);
  std::vector<std::int64_t> blocks(sites);
  for_each_leaf(sites, [&](const Leaf& leaf, std::uint32_t l, std::uint32_t count) {
    for (std::uint32_t s = 0; s < count; ++s) {
      bytes[std::size_t{l} * kLeafSites + s] += read(leaf.sites[s].bytes);
      blocks[std::size_t{l} * kLeafSites + s] += read(leaf.sites[s].blocks);
    }
  });
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (blocks[i] > 0 && bytes[i] >= 0) {
      out.push_back({static_cast<alloc::SiteTag>(static_cast<std::uint32_t>(i) + kFirstSite), bytes[i], blocks[i]});
    }
  }
  return true;
}

bool activity_by_site(std::vector<SiteActivity>& out) {
  if (g_overflow.load(std::memory_order_relaxed)) return false;
  const std::uint32_t sites = sites_in_use();
  std::vector<SiteActivity> sums(sites, SiteActivity{});
  for_each_leaf(sites, [&](const Leaf& leaf, std::uint32_t l, std::uint32_t count) {
    for (std::uint32_t s = 0; s < count; ++s) {
      SiteActivity& sum = sums[std::size_t{l} * kLeafSites + s];
      sum.calls += read(leaf.sites[s].calls);
      sum.allocated_bytes += read(leaf.sites[s].allocated);
      sum.temporary += read(leaf.sites[s].temporary);
    }
  });
  for (std::size_t i = 0; i < sums.size(); ++i) {
    if (sums[i].calls == 0) continue;
    sums[i].site = static_cast<alloc::SiteTag>(static_cast<std::uint32_t>(i) + kFirstSite);
    out.push_back(sums[i]);
  }
  return true;
}

namespace {

// A view's slots, mapped on first use (a view may hold every site). Null when they cannot be mapped.
PeakSlot* slots_of(StoredView& view) noexcept {
  if (view.slots == nullptr) view.slots = static_cast<PeakSlot*>(alloc::os_map_internal(sizeof(PeakSlot) * kMaxSites));
  return view.slots;
}

// Every site's live totals now into `view`. False when its slots cannot be mapped.
bool sum_into(StoredView& view) noexcept {
  if (slots_of(view) == nullptr) return false;
  const std::uint32_t used = sites_in_use();
  for (std::uint32_t i = 0; i < used; ++i) view.slots[i] = {0, 0};
  for_each_leaf(used, [&](const Leaf& leaf, std::uint32_t l, std::uint32_t count) {
    for (std::uint32_t s = 0; s < count; ++s) {
      view.slots[l * kLeafSites + s].bytes += read(leaf.sites[s].bytes);
      view.slots[l * kLeafSites + s].blocks += read(leaf.sites[s].blocks);
    }
  });
  std::int64_t total = 0;
  for (std::uint32_t i = 0; i < used; ++i) total += view.slots[i].bytes;
  view.used = used;
  view.total = total;
  return true;
}

}  // namespace

void capture_peak_view(bool window, bool whole) noexcept {
  if (!window && !whole) return;
  if (g_peak_busy.exchange(true, std::memory_order_acquire)) return;  // another thread is at it
  StoredView& first = stored(window ? PeakWindow::SincePrevious : PeakWindow::Whole);
  if (sum_into(first) && window && whole) {  // the window's peak is the whole run's too
    StoredView& copy = stored(PeakWindow::Whole);
    if (slots_of(copy) != nullptr) {
      std::copy(first.slots, first.slots + first.used, copy.slots);
      copy.used = first.used;
      copy.total = first.total;
    }
  }
  g_peak_busy.store(false, std::memory_order_release);
}

PeakView peak_view(PeakWindow window) {
  PeakView result;
  ViewsLock lock;
  const StoredView& view = stored(window);
  result.total = view.total;
  for (std::uint32_t i = 0; i < view.used; ++i) {
    if (view.slots[i].blocks > 0 && view.slots[i].bytes >= 0)
      result.sites.push_back({static_cast<alloc::SiteTag>(i + kFirstSite), view.slots[i].bytes, view.slots[i].blocks});
  }
  return result;
}

std::int64_t peak_view_total(PeakWindow window) noexcept {
  ViewsLock lock;
  return stored(window).total;
}

void clear_peak_view(PeakWindow window) noexcept {
  ViewsLock lock;
  stored(window).used = 0;
  stored(window).total = 0;
}

void after_fork_in_child() noexcept { g_peak_busy.store(false, std::memory_order_relaxed); }

std::int64_t live_blocks() noexcept {
  std::int64_t blocks = 0;
  for_each_leaf(sites_in_use(), [&](const Leaf& leaf, std::uint32_t, std::uint32_t count) {
    for (std::uint32_t s = 0; s < count; ++s) blocks += read(leaf.sites[s].blocks);
  });
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
    const std::uint32_t sites = read(table->sites_seen);  // beyond it, every counter is zero
    for (std::uint32_t l = 0; l * kLeafSites < sites; ++l) {
      Leaf* leaf = read(table->leaf_slot(l), std::memory_order_acquire);
      if (leaf == nullptr) continue;
      for (Counter& counter : std::span(leaf->sites, std::min(kLeafSites, sites - l * kLeafSites))) {
        write(counter.bytes, std::int64_t{0});
        write(counter.blocks, std::int64_t{0});
        write(counter.allocated, std::uint64_t{0});
        write(counter.calls, std::uint64_t{0});
        write(counter.temporary, std::uint64_t{0});
      }
    }
    table->last_allocation = nullptr;
  }
  g_overflow.store(false, std::memory_order_relaxed);
  clear_peak_view(PeakWindow::Whole);
  clear_peak_view(PeakWindow::SincePrevious);
}

}  // namespace heapsnap::site_counters
