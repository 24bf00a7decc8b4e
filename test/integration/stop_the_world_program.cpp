// Threads the leak analysis must stop to see what they hold (docs/stop-the-world.md). At exit:
//  - a thread that blocks every signal, as the signal-handling thread of a server does, holds the only
//    pointer to one block on its stack and to another in a register, inside a system call;
//  - a worker waits on a condition variable, holding the only pointer to a block on its stack.
// None of these is a leak. Arguments:
//   leak   also leaks one block for real (LEAK SITE)
//   fork   forks once the threads run; the child starts threads of its own (blocks of other sizes)
//          and exits first. In the child, the parent's threads do not exist: their blocks leak there.
//   _exit  ends through _exit instead of exit
//   wait   prints "ready <pid>" and waits for a signal to end it
// The block sizes say who holds them: generation * 1000 + 1 (stack of the signal-blocking thread),
// + 2 (its register), + 3 (the worker's stack); generation 1 in the first process, 2 in a fork child.

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace {

std::atomic<int> g_ready{0};  // threads that hold their blocks
// Plain pthread objects: a std::condition_variable's destructor would wait at exit for its waiter.
// One mutex per generation: a fork child must not inherit one its parent's worker may hold.
pthread_mutex_t g_mutex[3] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
pthread_cond_t g_never_notified[3] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
int g_pipe[2];  // never written: the signal-blocking thread reads from it forever

// Keeps `held` in r12, a callee-saved register, across a blocking read: while the thread waits in the
// kernel the pointer is in no memory the program owns.
[[noreturn, gnu::noinline]] void read_forever_holding(void* held) {
#if defined(__x86_64__)
  register void* in_register asm("r12") = held;
  char byte;
  for (;;) {
    long result;
    asm volatile("syscall"
                 : "=a"(result)
                 : "a"(SYS_read), "D"(g_pipe[0]), "S"(&byte), "d"(1), "r"(in_register)
                 : "rcx", "r11", "memory");
  }
#else
  char byte;
  volatile void* on_stack = held;
  for (;;) (void)!read(g_pipe[0], &byte, 1);
  (void)on_stack;
#endif
}

void signal_blocking_thread(std::size_t generation) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // volatile: the pointer stays in this frame's stack slot, not only in a register.
  void* volatile on_stack = std::malloc(generation * 1000 + 1);
  void* in_register = std::malloc(generation * 1000 + 2);
  g_ready.fetch_add(1);
  read_forever_holding(in_register);
  (void)on_stack;
}

void waiting_worker(std::size_t generation) {
  void* volatile on_stack = std::malloc(generation * 1000 + 3);
  pthread_mutex_lock(&g_mutex[generation]);
  g_ready.fetch_add(1);
  for (;;) pthread_cond_wait(&g_never_notified[generation], &g_mutex[generation]);
  (void)on_stack;
}

void start_threads(std::size_t generation) {
  std::thread(signal_blocking_thread, generation).detach();
  std::thread(waiting_worker, generation).detach();
  while (g_ready.load() < 2) std::this_thread::yield();
  g_ready.store(0);
}

[[gnu::noinline]] void leak_one_block() {
  void* leaked = std::malloc(333);  // LEAK SITE
  std::memset(leaked, 0, 333);
  asm volatile("" : : "r"(leaked) : "memory");  // the block is made, used, and forgotten
}

}  // namespace

int main(int argc, char** argv) {
  bool leak = false;
  bool fork_child = false;
  bool immediate_exit = false;
  bool wait_for_signal = false;
  for (int i = 1; i < argc; ++i) {
    leak |= std::string_view(argv[i]) == "leak";
    fork_child |= std::string_view(argv[i]) == "fork";
    immediate_exit |= std::string_view(argv[i]) == "_exit";
    wait_for_signal |= std::string_view(argv[i]) == "wait";
  }
  if (pipe(g_pipe) != 0) return 2;
  start_threads(1);
  if (leak) leak_one_block();
  if (fork_child) {
    const pid_t child = fork();
    if (child < 0) return 2;
    if (child == 0) {
      start_threads(2);
      std::printf("child %d\n", static_cast<int>(getpid()));
      return 0;
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 3;
  }
  std::printf("done\n");
  std::fflush(stdout);
  if (immediate_exit) _exit(0);
  if (wait_for_signal) {
    std::printf("ready %d\n", static_cast<int>(getpid()));
    std::fflush(stdout);
    for (;;) pause();
  }
  return 0;
}
