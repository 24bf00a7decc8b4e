// Benchmark workload: single-thread churn of mixed sizes allocated from varied call depths.
// Not a test: it prints a checksum so that the work cannot be optimized away.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/allocate_at_depth.h"

namespace {

unsigned g_seed = 12345;
unsigned next_random() { return g_seed = g_seed * 1103515245u + 12345u; }


}  // namespace

int main(int argc, char** argv) {
  const long operations = argc > 1 ? std::atol(argv[1]) : 2000000;
  std::vector<void*> live(4096, nullptr);
  unsigned long checksum = 0;
  for (long i = 0; i < operations; ++i) {
    const unsigned r = next_random();
    void*& slot = live[(r >> 8) % live.size()];
    std::free(slot);
    const std::size_t size = (r >> 20) % 8 == 0 ? 1024 + r % 16384 : 8 + r % 256;
    slot = allocate_at_depth(static_cast<int>(r % 12), size);
    static_cast<char*>(slot)[0] = static_cast<char>(i);
    checksum += static_cast<unsigned char*>(slot)[0];
  }
  for (void* p : live) std::free(p);
  std::printf("churn: %ld operations, checksum %lu\n", operations, checksum);
  return 0;
}
