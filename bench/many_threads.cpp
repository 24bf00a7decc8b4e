// Benchmark workload: `bench_many_threads OPERATIONS THREADS`. THREADS threads (more than the cores,
// as servers and parallel test runners have) each replace blocks in a window of 256 live ones,
// OPERATIONS / THREADS times, at mixed sizes and call depths. The total work does not depend on
// THREADS, so the wall time with 1 thread and with 8 compares what a profiler's shared state costs
// when many threads allocate at once (heapsnap's traced-bytes counters, heaptrack's lock).
// Not a test: it prints a checksum so that the work cannot be optimized away.

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/allocate_at_depth.h"

namespace {


unsigned long churn(long operations, unsigned seed) {
  constexpr int kWindow = 256;
  void* window[kWindow] = {};
  unsigned long checksum = 0;
  for (long i = 0; i < operations; ++i) {
    seed = seed * 1103515245u + 12345u;
    const int slot = static_cast<int>(seed >> 8) % kWindow;
    std::free(window[slot]);
    const std::size_t size = 8 + (seed >> 16) % 700;
    auto* block = static_cast<unsigned char*>(allocate_at_depth(static_cast<int>(seed >> 4) % 6, size));
    block[0] = static_cast<unsigned char>(i);
    checksum += block[0];
    window[slot] = block;
  }
  for (void* p : window) std::free(p);
  return checksum;
}

}  // namespace

int main(int argc, char** argv) {
  const long operations = argc > 1 ? std::atol(argv[1]) : 4000000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 8;
  if (threads < 1) return 2;
  std::vector<unsigned long> checksums(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { checksums[static_cast<std::size_t>(t)] = churn(operations / threads, 7919u * static_cast<unsigned>(t + 1)); });
  unsigned long total = 0;
  for (int t = 0; t < threads; ++t) {
    workers[static_cast<std::size_t>(t)].join();
    total += checksums[static_cast<std::size_t>(t)];
  }
  std::printf("%lu\n", total);
  return 0;
}
