// Benchmark workload: two threads, each allocating blocks that the other frees (a producer and a
// consumer each way), through a lock-free single-producer/single-consumer ring per direction.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kRing = 1 << 12;

struct Ring {  // single producer, single consumer
  std::vector<void*> slots = std::vector<void*>(kRing, nullptr);
  alignas(64) std::atomic<std::size_t> head{0};
  alignas(64) std::atomic<std::size_t> tail{0};
  bool push(void* p) {
    const std::size_t h = head.load(std::memory_order_relaxed);
    if (h - tail.load(std::memory_order_acquire) == kRing) return false;
    slots[h % kRing] = p;
    head.store(h + 1, std::memory_order_release);
    return true;
  }
  void* pop() {
    const std::size_t t = tail.load(std::memory_order_relaxed);
    if (t == head.load(std::memory_order_acquire)) return nullptr;
    void* p = slots[t % kRing];
    tail.store(t + 1, std::memory_order_release);
    return p;
  }
};

[[gnu::noinline]] void* make_block(unsigned r) { return std::malloc(16 + r % 512); }

std::atomic<int> g_finished{0};  // threads done producing: a full ring to one of them never drains

void free_incoming(Ring& incoming, std::atomic<long>& freed) {
  if (void* q = incoming.pop()) {
    std::free(q);
    freed.fetch_add(1, std::memory_order_relaxed);
  }
}

void run(long operations, unsigned seed, Ring& outgoing, Ring& incoming, std::atomic<long>& freed) {
  for (long i = 0; i < operations; ++i) {
    seed = seed * 1103515245u + 12345u;
    void* p = make_block(seed >> 8);
    static_cast<char*>(p)[0] = 1;
    while (!outgoing.push(p)) {
      if (g_finished.load(std::memory_order_acquire) != 0) {  // the consumer is gone: free it here
        std::free(p);
        break;
      }
      free_incoming(incoming, freed);
    }
    free_incoming(incoming, freed);
  }
  g_finished.fetch_add(1, std::memory_order_release);
}

}  // namespace

int main(int argc, char** argv) {
  const long operations = argc > 1 ? std::atol(argv[1]) : 1000000;
  Ring a_to_b, b_to_a;
  std::atomic<long> freed{0};
  std::thread a([&] { run(operations, 1, a_to_b, b_to_a, freed); });
  std::thread b([&] { run(operations, 2, b_to_a, a_to_b, freed); });
  a.join();
  b.join();
  while (void* p = a_to_b.pop()) std::free(p), ++freed;
  while (void* p = b_to_a.pop()) std::free(p), ++freed;
  std::printf("two_threads: %ld blocks freed across threads\n", freed.load());
  return 0;
}
