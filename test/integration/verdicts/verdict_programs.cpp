// Programs whose leaks are known exactly, one scenario per argument, for the leak-verdict matrix
// (leak_verdicts_test.py): the same binary runs under heapsnap, LeakSanitizer (liblsan preloaded)
// and Valgrind memcheck, and each tool's verdict is compared with the truth written here.
//
//   thread_leak       a worker thread loses 7 blocks of 96 B                     leak: 7 blocks, 672 B
//   joined_threads    std::threads allocate, hand results back, are joined       no leak
//   detached_waiters  detached threads alive at exit, blocked on a condition
//                     variable, their heap data held only by their stacks        no leak
//   tsd_main          pthread_setspecific values on the main thread (40 keys:
//                     glibc's first block in the descriptor, the second calloc'ed) no leak
//   dlopen_tls        a dlopen'ed library's __thread/thread_local data, used from
//                     main, from threads alive at exit and from joined threads   no leak
//   mmap_pool         a pool in anonymous mmap'ed memory holds the only pointers
//                     to 100 malloc'ed blocks (registered with LSan when it is
//                     there, as a custom allocator must; `mmap_pool unregistered`
//                     skips that)                                                no leak
//   loop_leak         a loop loses 1000 blocks of 40 B                           leak: 1000 blocks, 40000 B
//   returned_frame    the last pointer to a 123 B block sat in the frame of a
//                     function that has returned                                leak: 1 block, 123 B
//
// A lost pointer must not survive in a register or a live stack slot, or every conservative
// collector would rightly call the block reachable: allocation happens in noinline functions whose
// locals are volatile and overwritten, and `scrub_registers()` runs before main returns.

#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" void __lsan_register_root_region(const void* begin, std::size_t size) __attribute__((weak));

namespace {

// Clobbers the caller-saved registers and a stretch of the stack below the caller's frame.
[[gnu::noinline]] void scrub_registers() {
  volatile char scratch[4096];
  for (auto& byte : scratch) byte = 0;
  asm volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\txor %%esi, %%esi\n\t"
               "xor %%edi, %%edi\n\txor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\t"
               "xor %%r11d, %%r11d" ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
}

[[gnu::noinline]] void lose_block(std::size_t bytes) {
  void* volatile block = std::malloc(bytes);  // LOST BLOCK
  std::memset(block, 0x11, bytes);
  block = nullptr;
}

// --- thread_leak
[[gnu::noinline]] void worker_loses_blocks() {
  for (int i = 0; i < 7; ++i) lose_block(96);
  scrub_registers();
}

int thread_leak() {
  std::thread worker(worker_loses_blocks);
  worker.join();
  return 0;
}

// --- joined_threads
std::vector<std::unique_ptr<std::string>> results;  // reachable from a global until exit
std::mutex results_lock;

int joined_threads() {
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([t] {
      std::vector<std::string> scratch;  // allocated and freed inside the thread
      for (int i = 0; i < 100; ++i) scratch.push_back(std::string(50 + i, static_cast<char>('a' + t)));
      auto result = std::make_unique<std::string>(scratch.back());
      std::lock_guard<std::mutex> hold(results_lock);
      results.push_back(std::move(result));
    });
  }
  for (auto& worker : workers) worker.join();
  std::printf("%zu results\n", results.size());
  return 0;
}

// --- detached_waiters and dlopen_tls: threads that never end
// Never destroyed: exit() would wait in ~condition_variable for the threads that wait on it forever.
// Both stay reachable from these globals.
std::mutex& gate_lock = *new std::mutex;
std::condition_variable& gate = *new std::condition_variable;
int ready = 0;

void wait_forever() {
  std::unique_lock<std::mutex> hold(gate_lock);
  ++ready;
  gate.notify_all();
  gate.wait(hold, [] { return false; });
}

void wait_until_ready(int threads) {
  std::unique_lock<std::mutex> hold(gate_lock);
  gate.wait(hold, [threads] { return ready == threads; });
}

int detached_waiters() {
  constexpr int kThreads = 3;
  for (int t = 0; t < kThreads; ++t) {
    std::thread([t] {
      std::vector<char> buffer(4096, static_cast<char>(t));     // held by this stack only
      auto text = std::make_unique<std::string>(300, 'w');     // and this
      std::string* volatile raw = new std::string(200, 'r');   // a raw pointer in a stack slot
      wait_forever();
      std::printf("%zu %zu %zu\n", buffer.size(), text->size(), raw->size());  // never reached
    }).detach();
  }
  wait_until_ready(kThreads);
  return 0;
}

// --- tsd_main
int tsd_main() {
  constexpr int kKeys = 40;  // glibc keeps keys 0..31 in the descriptor, the rest in a calloc'ed block
  for (int k = 0; k < kKeys; ++k) {
    pthread_key_t key;
    if (pthread_key_create(&key, std::free) != 0) return 3;
    void* value = std::malloc(32 + k);
    std::memset(value, k, 32 + k);
    pthread_setspecific(key, value);
  }
  scrub_registers();
  return 0;  // the main thread's values are not destroyed by exit(): they stay reachable
}

// --- dlopen_tls
int dlopen_tls(const char* library) {
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  auto fill = reinterpret_cast<void (*)(std::size_t)>(dlsym(handle, "tls_fill"));
  auto check = reinterpret_cast<std::size_t (*)()>(dlsym(handle, "tls_check"));
  auto release = reinterpret_cast<void (*)()>(dlsym(handle, "tls_release"));
  fill(1000);  // the main thread
  constexpr int kAlive = 3;
  for (int t = 0; t < kAlive; ++t) {
    std::thread([fill, t] {
      fill(2000 + 100 * t);
      wait_forever();
    }).detach();
  }
  std::vector<std::thread> joined;
  for (int t = 0; t < 2; ++t) {
    joined.emplace_back([fill, release] {
      fill(3000);
      release();  // the vector's destructor runs at thread exit
    });
  }
  for (auto& thread : joined) thread.join();
  wait_until_ready(kAlive);
  std::printf("main thread's names: %zu\n", check());
  scrub_registers();
  return 0;
}

// --- mmap_pool
int mmap_pool(bool register_with_lsan) {
  constexpr std::size_t kPoolBytes = 1 << 20;
  constexpr int kBlocks = 100;
  void* pool = mmap(nullptr, kPoolBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pool == MAP_FAILED) return 3;
  if (register_with_lsan && __lsan_register_root_region != nullptr) __lsan_register_root_region(pool, kPoolBytes);
  auto** slots = static_cast<void**>(pool);
  for (int i = 0; i < kBlocks; ++i) {
    slots[i * 8] = std::malloc(48);  // spread over the pool: one pointer per 64 bytes
    std::memset(slots[i * 8], i, 48);
  }
  slots = nullptr;
  scrub_registers();
  return 0;
}

// --- loop_leak
[[gnu::noinline]] void leak_in_a_loop() {
  for (int i = 0; i < 1000; ++i) lose_block(40);
  scrub_registers();
}

// --- returned_frame
[[gnu::noinline]] void keep_in_frame() {
  char* volatile last = static_cast<char*>(std::malloc(123));  // FRAME LEAK
  std::memset(last, 0x22, 123);
  // Returns with the pointer still in this frame's (now dead) stack slot.
}

}  // namespace

int main(int argc, char** argv) {
  const std::string scenario = argc > 1 ? argv[1] : "";
  int status = 2;
  if (scenario == "thread_leak") status = thread_leak();
  else if (scenario == "joined_threads") status = joined_threads();
  else if (scenario == "detached_waiters") status = detached_waiters();
  else if (scenario == "tsd_main") status = tsd_main();
  else if (scenario == "dlopen_tls" && argc > 2) status = dlopen_tls(argv[2]);
  else if (scenario == "mmap_pool") status = mmap_pool(!(argc > 2 && std::strcmp(argv[2], "unregistered") == 0));
  else if (scenario == "loop_leak") leak_in_a_loop(), status = 0;
  else if (scenario == "returned_frame") keep_in_frame(), status = 0;
  else std::fprintf(stderr, "usage: %s SCENARIO [ARG]\n", argv[0]);
  return status;
}
