// Benchmark workload: a long-lived heap of a million small blocks (a map of strings), kept until
// exit, so that snapshotting, leak analysis and writing scale with it.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>

int main(int argc, char** argv) {
  const long blocks = argc > 1 ? std::atol(argv[1]) : 1000000;
  auto* table = new std::unordered_map<long, std::string>();  // reachable at exit
  table->reserve(static_cast<std::size_t>(blocks / 2));
  for (long i = 0; i < blocks / 2; ++i) (*table)[i] = std::string(24 + i % 40, 'x');  // node + string buffer
  std::printf("large_heap: %zu entries\n", table->size());
  return 0;
}
