// Benchmark workload for profiling a running service (bench/run): a process that holds a big heap and
// then, when told, does a fixed amount of allocation work, and says how much CPU time the work took
// (all of its threads, heapsnap's own included: what a live view costs the service shows there).
//
//   running_service BLOCKS ROUNDS
// Allocates BLOCKS small blocks and keeps them, prints "ready PID" and waits for a line on stdin; then
// runs ROUNDS rounds of churn from several sites and depths, prints "cpu SECONDS" and exits.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/allocate_at_depth.h"

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const long blocks = argc > 1 ? std::atol(argv[1]) : 1000000;
  const long rounds = argc > 2 ? std::atol(argv[2]) : 1000;
  std::vector<void*> held(static_cast<std::size_t>(blocks));
  for (long i = 0; i < blocks; ++i) held[static_cast<std::size_t>(i)] = allocate_at_depth(static_cast<int>(i % 4), 16 + i % 64);
  std::printf("ready %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  char line[64];
  if (std::fgets(line, sizeof line, stdin) == nullptr) return 1;

  const double before = cpu_seconds();
  std::vector<void*> live(512, nullptr);
  unsigned long checksum = 0;
  for (long round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < live.size(); ++i) {
      std::free(live[i]);
      live[i] = allocate_at_depth(static_cast<int>((i + static_cast<std::size_t>(round)) % 12), 8 + (i * 37) % 2000);
      checksum += reinterpret_cast<std::uintptr_t>(live[i]) & 0xff;
    }
  }
  for (void* p : live) std::free(p);
  std::printf("cpu %.6f (checksum %lu)\n", cpu_seconds() - before, checksum);
  for (void* p : held) std::free(p);
  return 0;
}
