// How long a snapshot of a big heap takes, both ways: a walk of every live block (take_snapshot) and
// the per-site totals kept in process (take_snapshot_from_site_totals). Links the preload library and
// uses the API; prints one line per way, with the ratio, and checks the two agree.
//   bench_snapshot_scale [LIVE_BLOCKS]   (default 1000000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "preload/api.h"

namespace {

// 64 allocation sites: the recursion depth is part of the stack.
[[gnu::noinline]] void* allocate_at(int depth, std::size_t size) {
  if (depth == 0) return std::malloc(size);
  void* p = allocate_at(depth - 1, size);
  asm volatile("" : : "g"(p) : "memory");
  return p;
}

template <typename Take>
double seconds(Take take, heapsnap::Snapshot& out) {
  const auto start = std::chrono::steady_clock::now();
  out = take();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::uint64_t total(const heapsnap::Snapshot& snapshot) {
  std::uint64_t bytes = 0;
  for (const auto& trace : snapshot.traces) bytes += trace.size;
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  const long blocks = argc > 1 ? std::atol(argv[1]) : 1000000;
  heapsnap::start(16);
  std::vector<void*> live;
  live.reserve(static_cast<std::size_t>(blocks));
  for (long i = 0; i < blocks; ++i) live.push_back(allocate_at(static_cast<int>(i % 64), 16 + static_cast<std::size_t>(i % 5) * 8));
  heapsnap::Snapshot walked;
  heapsnap::Snapshot summed;
  const double walk = seconds([] { return heapsnap::take_snapshot(); }, walked);
  const double sums = seconds([] { return heapsnap::take_snapshot_from_site_totals(); }, summed);
  std::printf("%ld live blocks, %zu traces\n", blocks, walked.traces.size());
  std::printf("take_snapshot (heap walk):          %.3f s\n", walk);
  std::printf("take_snapshot_from_site_totals:     %.3f s (%.1fx faster)\n", sums, walk / sums);
  const bool agree = total(walked) == total(summed) && walked.traces.size() == summed.traces.size();
  std::printf("the two agree: %s\n", agree ? "yes" : "NO");
  for (void* p : live) std::free(p);
  heapsnap::stop();
  return agree ? 0 : 1;
}
