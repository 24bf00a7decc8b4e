#include "profiler/exit_frame.h"

#include <unistd.h>

#include <atomic>

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
Slot g_slots[kSlots];

}  // namespace

void record_exit_frame(const ExitFrame& frame) noexcept {
  const pid_t self = gettid();
  for (Slot& slot : g_slots) {
    pid_t owner = slot.tid.load(std::memory_order_acquire);
    if (owner != self && !(owner == 0 && slot.tid.compare_exchange_strong(owner, self, std::memory_order_acq_rel))) continue;
    slot.ready.store(false, std::memory_order_release);
    slot.frame = frame;
    slot.ready.store(true, std::memory_order_release);
    return;
  }
}

std::optional<ExitFrame> exit_frame_of(pid_t tid) noexcept {
  for (const Slot& slot : g_slots)
    if (slot.tid.load(std::memory_order_acquire) == tid && slot.ready.load(std::memory_order_acquire)) return slot.frame;
  return std::nullopt;
}

}  // namespace heapsnap
