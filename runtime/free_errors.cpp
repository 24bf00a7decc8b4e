#include "runtime/free_errors.h"

#include <algorithm>
#include <atomic>

#include "runtime/recursion_guard.h"
#include "runtime/stack_capture.h"
#include "runtime/trace_table.h"
#include "runtime/tracing.h"

namespace heapsnap {
namespace {

// One (kind, bad-free stack, allocation stack) per slot, found by open addressing on a 64-bit key.
struct Slot {
  std::atomic<std::uint64_t> key{0};  // 0: empty; never a real key (freed_at is at least Untraced)
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uintptr_t> first_address{0};
};
constexpr std::size_t kSlots = 256;
Slot g_slots[kSlots];
std::atomic<std::uint64_t> g_unrecorded{0};

std::uint64_t key_of(alloc::BadFreeKind kind, alloc::SiteTag freed_at, alloc::SiteTag allocated_at) {
  return (std::uint64_t{static_cast<std::uint32_t>(freed_at)} << 32) |
         (std::uint64_t{static_cast<std::uint8_t>(kind)} << 30) | (static_cast<std::uint32_t>(allocated_at) & 0x3fffffffu);
}

[[gnu::noinline]] alloc::SiteTag stack_of_caller(std::uint32_t skip) noexcept {
  if (!tracing::g_enabled.load(std::memory_order_relaxed)) return alloc::SiteTag::Untraced;
  RecursionGuard guard;
  CapturedStack stack;
  capture_stack(stack, tracing::g_depth.load(std::memory_order_relaxed), skip + 1);
  return intern_stack(stack);
}

}  // namespace

[[gnu::noinline]] void record_bad_free(const void* p, std::uint32_t skip) noexcept {
  if (tl_inside_heapsnap) return;  // heapsnap's own code freeing: not the program's error
  // A pointer outside heapsnap's heap is recorded like any other invalid free: glibc aborts on it.
  // The one memory of another allocator in the process is what the dynamic loader's minimal malloc
  // handed out before libc was relocated to heapsnap's malloc (link maps, search paths, the initial
  // DTV and TLS block); glibc marks every such block and never passes it to free (rtld.c sets
  // dont_free and l_free_initfini = 0 for them, _dl_resize_dtv abandons the initial DTV, dl-load.c
  // frees search paths only when `malloced`, dl-libc.c's freeres skips the first slotinfo element; read
  // in glibc 2.36), so nothing that legitimately reaches free() is refused here. Checked too: python3
  // with threads dlopening extension modules, gcc, git, sqlite3 and ls record no bad free.
  const alloc::BadFree bad = alloc::diagnose_bad_free(p);
  const alloc::SiteTag freed_at = stack_of_caller(skip + 1);
  const std::uint64_t key = key_of(bad.kind, freed_at, bad.allocated_at);
  for (std::size_t probe = 0; probe < kSlots; ++probe) {
    Slot& slot = g_slots[((key * 0x9e3779b97f4a7c15ull >> 56) + probe) & (kSlots - 1)];
    std::uint64_t current = slot.key.load(std::memory_order_acquire);
    if (current == 0) {
      if (slot.key.compare_exchange_strong(current, key, std::memory_order_acq_rel)) {
        slot.first_address.store(reinterpret_cast<std::uintptr_t>(p), std::memory_order_relaxed);
        current = key;
      }
    }
    if (current == key) {
      slot.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  g_unrecorded.fetch_add(1, std::memory_order_relaxed);
}

std::vector<FreeErrorRecord> free_error_records() {
  std::vector<FreeErrorRecord> records;
  for (const Slot& slot : g_slots) {
    const std::uint64_t key = slot.key.load(std::memory_order_acquire);
    const std::uint64_t count = slot.count.load(std::memory_order_relaxed);
    if (key == 0 || count == 0) continue;
    FreeErrorRecord record;
    record.kind = static_cast<alloc::BadFreeKind>((key >> 30) & 3);
    record.freed_at = static_cast<alloc::SiteTag>(key >> 32);
    record.allocated_at = static_cast<alloc::SiteTag>(key & 0x3fffffffu);
    record.count = count;
    record.first_address = slot.first_address.load(std::memory_order_relaxed);
    records.push_back(record);
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.count > b.count; });
  return records;
}

std::uint64_t unrecorded_free_errors() noexcept { return g_unrecorded.load(std::memory_order_relaxed); }

void clear_free_errors() noexcept {
  for (Slot& slot : g_slots) {
    slot.count.store(0, std::memory_order_relaxed);
    slot.key.store(0, std::memory_order_release);
  }
  g_unrecorded.store(0, std::memory_order_relaxed);
}

}  // namespace heapsnap
