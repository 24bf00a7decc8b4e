// A program whose allocation activity is known exactly (test/integration/activity_test.py): per
// function, how many allocations, how many bytes, how many temporary (freed as their thread's very next
// allocation or free), and what was live at the peak. Each site is a function of its own, never inlined.
//
//   temporary_site   4 threads x 500 allocations of 64 B, each freed at once: 2000 calls, 2000 temporary
//   pair_first       4 threads x 100 of 32 B, pair_second's allocated after it: 400 calls, none temporary
//   pair_second      4 threads x 100 of 48 B, allocated after pair_first's and freed after it: 400 calls,
//                    none temporary (another block's free came between)
//   kept_site        10 of 1000 B, kept until exit: 10 calls, none temporary, all live at the peak
//   peak_site        4 of 256 KiB, together the peak, then freed in order: 4 calls, 1 MiB at the peak;
//                    the last one allocated is freed after the others: none temporary
//   after_peak_site  1 of 512 KiB after the peak, freed: 1 call, temporary, nothing at the peak

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include "samples/escape.h"

namespace {

[[gnu::noinline]] void* temporary_site() { return std::malloc(64); }
[[gnu::noinline]] void* pair_first() { return std::malloc(32); }
[[gnu::noinline]] void* pair_second() { return std::malloc(48); }
[[gnu::noinline]] void* kept_site() { return std::malloc(1000); }
[[gnu::noinline]] void* peak_site() { return std::malloc(256 * 1024); }
[[gnu::noinline]] void* after_peak_site() { return std::malloc(512 * 1024); }

void worker() {
  for (int i = 0; i < 500; ++i) {
    void* p = temporary_site();
    escape(p);
    std::free(p);
  }
  for (int i = 0; i < 100; ++i) {
    void* first = pair_first();
    void* second = pair_second();
    escape(first);
    escape(second);
    std::free(first);   // pair_second's allocation came between: not temporary
    std::free(second);  // pair_first's free came between: not temporary either (heaptrack's count)
  }
}

}  // namespace

// `activity_program phases`: the peak of 1 MiB (peak_site), then, half a second later, one of 512 KiB
// (after_peak_site), each freed, half a second apart: interval snapshots between them each see their
// own window's peak.
int phases() {
  void* peak[4];
  for (void*& p : peak) p = peak_site();
  escape(peak);
  for (void* p : peak) std::free(p);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  void* after = after_peak_site();
  escape(after);
  std::free(after);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::puts("done");
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "phases") return phases();
  std::vector<std::thread> threads;  // allocated here, before the workers: its buffer is not theirs
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();

  void* kept[10];
  for (void*& p : kept) p = kept_site();
  void* peak[4];
  for (void*& p : peak) p = peak_site();
  escape(peak);
  for (void* p : peak) std::free(p);
  void* after = after_peak_site();
  escape(after);
  std::free(after);
  escape(kept);
  std::puts("done");
  return 0;
}
