// A program whose pointers live outside the heap, as custom allocators and runtimes keep them: an
// anonymous pool of `pool_mib` MiB whose every page holds pointers to malloc'ed blocks, and `threads`
// threads that ran and were joined (their stacks stay in glibc's cache). Measures what scanning
// those roots at exit costs: the leak analysis reads the pool and the cached threads' descriptors.
//   bench_pools_and_threads POOL_MIB THREADS

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const std::size_t pool_mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 64;
  const std::size_t bytes = pool_mib << 20;
  auto* pool = static_cast<void**>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (pool == MAP_FAILED) return 1;
  const std::size_t slots = bytes / sizeof(void*);
  constexpr std::size_t kStride = 64;  // one block per 512 bytes of pool: every page is resident
  for (std::size_t i = 0; i < slots; i += kStride) pool[i] = std::malloc(32);
  for (int round = 0; round < threads; round += 8) {
    std::vector<std::thread> running;
    for (int t = round; t < threads && t < round + 8; ++t) running.emplace_back([] { std::free(std::malloc(64)); });
    for (std::thread& thread : running) thread.join();
  }
  std::printf("%zu blocks in a %zu MiB pool, %d threads joined\n", slots / kStride, pool_mib, threads);
  return 0;  // the pool still holds every block: no leak
}
