// Allocates from a signal handler while the main thread allocates: a profiler whose allocator took a
// lock here would deadlock. A timer interrupts the main loop thousands of times, wherever it is,
// inside malloc and free included. Prints a checksum that does not depend on timing.

#include <signal.h>
#include <sys/time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::atomic<long> g_handler_runs{0};

void allocate_in_handler(int) {
  void* p = std::malloc(48);
  std::memset(p, 1, 48);
  void* q = std::realloc(p, 4096);
  std::free(q);
  g_handler_runs.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int main() {
  struct sigaction action {};
  action.sa_handler = allocate_in_handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, nullptr);
  const itimerval every_50us{{0, 50}, {0, 50}};
  setitimer(ITIMER_REAL, &every_50us, nullptr);

  unsigned long checksum = 0;
  for (int i = 0; i < 400000 || g_handler_runs.load() < 1000; ++i) {
    const std::size_t size = 16 + static_cast<std::size_t>(i % 61) * 8;
    auto* block = static_cast<unsigned char*>(std::malloc(size));
    block[0] = static_cast<unsigned char>(i);
    if (i < 400000) checksum += block[0] + size;
    std::free(block);
  }
  const itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  std::printf("checksum %lu\n", checksum);
  return 0;
}
