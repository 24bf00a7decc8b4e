// The roots a leak analysis scans (collector/root_set.h), one kind at a time: each test hides every
// real pointer to its block but one, kept in the kind of root under test, and asks for the verdict;
// then drops that root and asks again.

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "test/runtime/collector_test_support.h"

using collector_test::collect_with_clean_stack;
using collector_test::reachability_of;
using collector_test::Tracing;
using heapsnap::Reachability;

namespace {

constexpr std::uintptr_t kDisguise = 0x5a5a5a5a5aULL;

void* reveal(std::uintptr_t disguised) { return reinterpret_cast<void*>(disguised ^ kDisguise); }

[[gnu::always_inline]] inline Reachability verdict_on(std::uintptr_t disguised) {
  return collector_test::verdict_on_disguised(disguised, kDisguise);
}

// Leaves no copy of the block's address in this frame or registers: the caller keeps a disguised one.
[[gnu::noinline]] std::uintptr_t store_in_pool(void** slot, std::size_t size) {
  *slot = std::malloc(size);
  return reinterpret_cast<std::uintptr_t>(*slot) ^ kDisguise;
}

// How many live blocks the analysis counts as leaked (direct, indirect or in a cycle).
std::uint64_t leaked_blocks(const heapsnap::Snapshot& snapshot) {
  std::uint64_t leaked = 0;
  for (const auto& trace : snapshot.traces)
    if (trace.reachability == Reachability::Direct || trace.reachability == Reachability::Indirect ||
        trace.reachability == Reachability::Cycle)
      leaked += trace.count;
  return leaked;
}

}  // namespace

TEST_CASE("a block whose only pointer is in an anonymous mapping (a custom pool) is reachable") {
  Tracing tracing;
  constexpr std::size_t kPoolBytes = 1 << 20;
  auto* pool = static_cast<void**>(mmap(nullptr, kPoolBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(pool != MAP_FAILED);
  std::uintptr_t block = 0;
  collector_test::on_fresh_thread([&] { block = store_in_pool(&pool[70000], 48); });  // deep inside, on its own page
  CHECK(verdict_on(block) == Reachability::Reachable);

  munmap(pool, kPoolBytes);  // the pool is gone: nothing points to the block any more
  CHECK(verdict_on(block) == Reachability::Direct);
  std::free(reveal(block));
}

TEST_CASE("a block held by a pthread_setspecific value of the calling thread is reachable") {
  Tracing tracing;
  // Keys past the first 32 live in a second-level array that glibc allocates with malloc.
  std::vector<pthread_key_t> keys(40);
  std::vector<std::uintptr_t> blocks;
  for (pthread_key_t& key : keys) {
    REQUIRE(pthread_key_create(&key, nullptr) == 0);
    void* value = std::malloc(32);
    REQUIRE(pthread_setspecific(key, value) == 0);
    blocks.push_back(reinterpret_cast<std::uintptr_t>(value) ^ kDisguise);
  }
  const auto snapshot = collect_with_clean_stack();
  for (std::uintptr_t block : blocks) CHECK(reachability_of(snapshot, reveal(block)) == Reachability::Reachable);
  for (pthread_key_t key : keys) {
    std::free(pthread_getspecific(key));
    pthread_key_delete(key);
  }
}

TEST_CASE("threads that ran and were joined leave no leak, also with a dlopen'ed library's TLS") {
  Tracing tracing;
  void* library = dlopen(HEAPSNAP_ROOTS_LIBRARY, RTLD_NOW);
  REQUIRE(library != nullptr);
  auto hold_in_tls = reinterpret_cast<void* (*)(std::size_t)>(dlsym(library, "roots_library_hold_in_tls"));
  auto release = reinterpret_cast<void (*)()>(dlsym(library, "roots_library_release"));
  REQUIRE((hold_in_tls && release));
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&] {
        hold_in_tls(16);  // the library's TLS block for this thread: allocated by the loader
        release();
      });
    for (std::thread& thread : threads) thread.join();
    CHECK(leaked_blocks(collect_with_clean_stack()) == 0);
  }
  dlclose(library);
}

TEST_CASE("an exited thread's dead stack keeps nothing alive: a leak made there is found") {
  Tracing tracing;
  std::uintptr_t block = 0;
  std::thread leaker([&] {
    void* volatile only_copy = std::malloc(56);  // the last pointer, in a frame that dies with the thread
    block = reinterpret_cast<std::uintptr_t>(only_copy) ^ kDisguise;
  });
  leaker.join();  // its stack goes to glibc's cache, the slot above still in it
  CHECK(verdict_on(block) == Reachability::Direct);
  std::free(reveal(block));
}

TEST_CASE("a block only a live thread blocked on a condition variable holds is reachable") {
  Tracing tracing;
  std::mutex mutex;
  std::condition_variable wake;
  bool holding = false;
  bool done = false;
  std::uintptr_t block = 0;
  std::thread holder([&] {
    void* volatile held = std::malloc(72);
    std::unique_lock lock(mutex);
    block = reinterpret_cast<std::uintptr_t>(held) ^ kDisguise;
    holding = true;
    wake.notify_all();
    wake.wait(lock, [&] { return done; });  // blocked in the kernel while the world stops
    std::free(held);
  });
  {
    std::unique_lock lock(mutex);
    wake.wait(lock, [&] { return holding; });
  }
  CHECK(verdict_on(block) == Reachability::Reachable);
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  wake.notify_all();
  holder.join();
}
