#include "runtime/exit_frame.h"

#include <unistd.h>

#include <atomic>
#include <new>
#include <span>

#include "allocator/os.h"

namespace heapsnap {
namespace {

// A few threads may race towards exit; one slot each, claimed by thread id. No lock: this runs in
// exit paths, also from signal handlers.
struct Slot {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> ready{false};
  ExitFrame frame;
};
constexpr int kSlots = 8;

// In heapsnap's own memory, never in .bss: a leak analysis scans the preload library's globals, and
// the registers kept here would be a second, stale root for whatever they point to.
std::atomic<Slot*> g_slots{nullptr};

Slot* slots(bool create) noexcept {
  Slot* table = g_slots.load(std::memory_order_acquire);
  if (table != nullptr || !create) return table;
  void* memory = alloc::os_map_internal(sizeof(Slot) * kSlots);
  if (memory == nullptr) return nullptr;
  auto* fresh = new (memory) Slot[kSlots];
  if (!g_slots.compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) {
    alloc::os_unmap_internal(memory, sizeof(Slot) * kSlots);
    return table;
  }
  return fresh;
}

}  // namespace

void record_exit_frame(const ExitFrame& frame) noexcept {
  const pid_t self = gettid();
  Slot* table = slots(true);
  if (table == nullptr) return;
  auto fill = [&](Slot& slot) {
    slot.ready.store(false, std::memory_order_release);
    slot.frame = frame;
    slot.ready.store(true, std::memory_order_release);
  };
  for (Slot& slot : std::span(table, kSlots)) {
    pid_t owner = slot.tid.load(std::memory_order_acquire);
    if (owner != self && !(owner == 0 && slot.tid.compare_exchange_strong(owner, self, std::memory_order_acq_rel))) continue;
    return fill(slot);
  }
  // Every slot taken (vfork children that called _exit keep theirs): the newest exit wins one, so the
  // thread that really ends the process is never left without its frame.
  Slot& taken = table[static_cast<unsigned>(self) % kSlots];
  taken.ready.store(false, std::memory_order_release);
  taken.tid.store(self, std::memory_order_release);
  fill(taken);
}

std::optional<ExitFrame> exit_frame_of(pid_t tid) noexcept {
  const Slot* table = slots(false);
  if (table == nullptr) return std::nullopt;
  for (const Slot& slot : std::span(table, kSlots))
    if (slot.tid.load(std::memory_order_acquire) == tid && slot.ready.load(std::memory_order_acquire)) return slot.frame;
  return std::nullopt;
}

}  // namespace heapsnap
