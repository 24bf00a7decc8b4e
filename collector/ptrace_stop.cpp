#include "collector/ptrace_stop.h"

#if defined(__x86_64__)

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>

#include "allocator/os.h"
#include "collector/raw_syscall.h"
#include "runtime/proc_file.h"

namespace heapsnap::collector {

// Hand-shake between the caller and the tracer, in turns; the futex word both wait on.
enum class TracerPhase : std::uint32_t {
  Starting,   // the tracer runs, but may not attach yet: the caller has not named it its ptracer
  MayAttach,  // caller → tracer
  Stopped,    // tracer → caller: every thread is stopped, registers are read
  Failed,     // tracer → caller: nothing is stopped any more; failed_step and error say why
  Resume,     // caller → tracer: detach and exit
};

enum class TracedState : int {
  Seized,   // attached and interrupted, its stop not yet seen
  Stopped,  // in its interrupt stop (or a group stop): registers valid once read
  Gone,     // exited meanwhile: nothing to scan
};

struct TracedThread {
  pid_t tid;
  TracedState state;
  user_regs_struct registers;
};

// Everything the tracer reads or writes, in one mapping of its own (the tracer must not allocate).
struct TracerChannel {
  std::atomic<std::uint32_t> phase;  // TracerPhase; futex word
  pid_t clone_tid;                   // cleared by the kernel when the tracer has exited (CLONE_CHILD_CLEARTID)
  pid_t process;                     // whose threads to stop
  pid_t parent;                      // the tracer exits if its parent is no longer this one
  pid_t skip[2];                     // the caller and heapsnap's service thread
  const char* failed_step;           // with Failed: a literal naming the step
  long error;                        // with Failed: its errno (0: see failed_step)
  pid_t failed_tid;                  // with Failed: the thread it was about, or 0
  std::uint32_t capacity;            // entries of `threads`
  std::uint32_t count;               // threads seized so far
  TracedThread* threads;             // in this mapping, after the channel
  alignas(8) char directory[8192];   // getdents64 buffer
  char path[96];                     // /proc/<pid>/task[/<tid>/stat]
};

namespace {

using namespace std::chrono_literals;

constexpr auto kTracerTimeout = 5s;             // to stop every thread; then the tracer is killed
constexpr std::size_t kTracerStackBytes = 64 << 10;
constexpr int kMaxListRounds = 64;              // threads that keep creating threads are not stopped

// ---------------------------------------------------------------------------------------------------
// The tracer. It runs on its own stack but with the caller's TLS and signal handlers' memory: only raw
// system calls, no libc, no allocation, no locks. Its signals are all blocked (inherited from the
// caller at clone), so no handler of the program ever runs on it.

#define HEAPSNAP_TRACER [[gnu::no_sanitize_address]]

HEAPSNAP_TRACER void futex_wait(std::atomic<std::uint32_t>& word, TracerPhase while_is) {
  while (word.load() == static_cast<std::uint32_t>(while_is))
    raw::call(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAIT, static_cast<long>(while_is), 0);
}

HEAPSNAP_TRACER void publish(TracerChannel& channel, TracerPhase phase) {
  channel.phase.store(static_cast<std::uint32_t>(phase));
  raw::call(SYS_futex, reinterpret_cast<long>(&channel.phase), FUTEX_WAKE, INT_MAX);
}

HEAPSNAP_TRACER char* append(char* out, const char* text) {
  while (*text != '\0') *out++ = *text++;
  return out;
}

HEAPSNAP_TRACER char* append_number(char* out, unsigned long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

// /proc/<pid>/task, or /proc/<pid>/task/<tid>/stat when tid != 0.
HEAPSNAP_TRACER const char* proc_path(TracerChannel& channel, pid_t tid) {
  char* at = append_number(append(channel.path, "/proc/"), static_cast<unsigned long>(channel.process));
  at = append(at, "/task");
  if (tid != 0) at = append(append_number(append(at, "/"), static_cast<unsigned long>(tid)), "/stat");
  *at = '\0';
  return channel.path;
}

// A zombie (a main thread that called pthread_exit) cannot be attached to, and has no stack to scan.
HEAPSNAP_TRACER bool is_dead(TracerChannel& channel, pid_t tid) {
  const long fd = raw::call(SYS_open, reinterpret_cast<long>(proc_path(channel, tid)), O_RDONLY | O_CLOEXEC);
  if (raw::failed(fd)) return true;
  char text[512];
  const long bytes = raw::call(SYS_read, fd, reinterpret_cast<long>(text), sizeof text);
  raw::call(SYS_close, fd);
  long close_paren = -1;  // the state follows the command name, which may itself hold ") "
  for (long i = 0; i < bytes; ++i)
    if (text[i] == ')') close_paren = i;
  if (close_paren < 0 || close_paren + 2 >= bytes) return true;
  const char state = text[close_paren + 2];
  return state == 'Z' || state == 'X' || state == 'x';
}

HEAPSNAP_TRACER bool fail(TracerChannel& channel, const char* step, long result, pid_t tid) {
  channel.failed_step = step;
  channel.error = -result;
  channel.failed_tid = tid;
  return false;
}

HEAPSNAP_TRACER bool known(const TracerChannel& channel, pid_t tid) {
  if (tid == channel.skip[0] || tid == channel.skip[1]) return true;
  for (std::uint32_t i = 0; i < channel.count; ++i)
    if (channel.threads[i].tid == tid) return true;
  return false;
}

HEAPSNAP_TRACER pid_t parse_tid(const char* name) {
  long value = 0;
  for (; *name != '\0'; ++name) {
    if (*name < '0' || *name > '9') return 0;
    value = value * 10 + (*name - '0');
    if (value > INT_MAX) return 0;
  }
  return static_cast<pid_t>(value);
}

// Seizes and interrupts every thread not seized yet; false when one that is alive cannot be.
HEAPSNAP_TRACER bool seize_new_threads(TracerChannel& channel) {
  const long fd = raw::call(SYS_open, reinterpret_cast<long>(proc_path(channel, 0)), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw::failed(fd)) return fail(channel, "open /proc/<pid>/task", fd, 0);
  bool ok = true;
  for (;;) {
    const long bytes = raw::call(SYS_getdents64, fd, reinterpret_cast<long>(channel.directory), sizeof channel.directory);
    if (raw::failed(bytes)) {
      ok = fail(channel, "getdents64 /proc/<pid>/task", bytes, 0);
      break;
    }
    if (bytes == 0) break;
    struct Entry {  // linux_dirent64
      std::uint64_t inode;
      std::int64_t offset;
      unsigned short length;
      unsigned char type;
      char name[1];
    };
    for (long at = 0; at < bytes && ok;) {
      const auto* entry = reinterpret_cast<const Entry*>(channel.directory + at);
      at += entry->length;
      const pid_t tid = parse_tid(entry->name);
      if (tid <= 0 || known(channel, tid)) continue;
      if (channel.count == channel.capacity) {
        ok = fail(channel, "too many threads appeared while stopping them", 0, 0);
        break;
      }
      const long seized = raw::call(SYS_ptrace, PTRACE_SEIZE, tid, 0, 0);
      if (seized == -ESRCH || (raw::failed(seized) && is_dead(channel, tid))) continue;
      if (raw::failed(seized)) {
        ok = fail(channel, "PTRACE_SEIZE", seized, tid);
        break;
      }
      // Field by field: a whole-struct store could become a call to libc's memset.
      channel.threads[channel.count].tid = tid;
      channel.threads[channel.count].state = TracedState::Seized;
      ++channel.count;
      raw::call(SYS_ptrace, PTRACE_INTERRUPT, tid, 0, 0);  // if it fails, the thread is exiting: wait sees it
    }
    if (!ok) break;
  }
  raw::call(SYS_close, fd);
  return ok;
}

// Waits for a seized thread's interrupt stop. A signal that arrives first shows as a
// signal-delivery-stop: it is handed on to the thread, and the interrupt stays pending.
HEAPSNAP_TRACER void wait_until_stopped(TracedThread& thread) {
  while (thread.state == TracedState::Seized) {
    int status = 0;
    const long waited = raw::call(SYS_wait4, thread.tid, reinterpret_cast<long>(&status), __WALL, 0);
    if (waited == -EINTR) continue;
    if (raw::failed(waited) || WIFEXITED(status) || WIFSIGNALED(status)) {
      thread.state = TracedState::Gone;
    } else if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) {
      thread.state = TracedState::Stopped;
    } else if (WIFSTOPPED(status)) {
      raw::call(SYS_ptrace, PTRACE_CONT, thread.tid, 0, WSTOPSIG(status));
    }
  }
}

// Every thread, including those created while the first ones were being stopped: list again until a
// listing finds no new thread (a stopped thread cannot create one).
HEAPSNAP_TRACER bool stop_every_thread(TracerChannel& channel) {
  for (int round = 0; round < kMaxListRounds; ++round) {
    const std::uint32_t before = channel.count;
    if (!seize_new_threads(channel)) return false;
    if (channel.count == before) return true;
    for (std::uint32_t i = before; i < channel.count; ++i) wait_until_stopped(channel.threads[i]);
  }
  return fail(channel, "threads kept appearing while stopping them", 0, 0);
}

// PTRACE_DETACH needs the thread in a ptrace stop: one only seized is waited for first.
HEAPSNAP_TRACER void detach_every_thread(TracerChannel& channel) {
  for (std::uint32_t i = 0; i < channel.count; ++i) {
    TracedThread& thread = channel.threads[i];
    wait_until_stopped(thread);
    if (thread.state == TracedState::Stopped) raw::call(SYS_ptrace, PTRACE_DETACH, thread.tid, 0, 0);
  }
}

HEAPSNAP_TRACER int run_tracer(void* argument) {
  TracerChannel& channel = *static_cast<TracerChannel*>(argument);
  // Dies with the thread that cloned it; and if that thread is already gone, there is no one to serve.
  raw::call(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  if (raw::call(SYS_getppid) != channel.parent) return 1;
  futex_wait(channel.phase, TracerPhase::Starting);

  if (!stop_every_thread(channel)) {
    detach_every_thread(channel);
    publish(channel, TracerPhase::Failed);
    return 1;
  }
  for (std::uint32_t i = 0; i < channel.count; ++i) {
    TracedThread& thread = channel.threads[i];
    if (thread.state != TracedState::Stopped) continue;
    if (raw::failed(raw::call(SYS_ptrace, PTRACE_GETREGS, thread.tid, 0, reinterpret_cast<long>(&thread.registers))))
      thread.state = TracedState::Gone;  // killed while stopped (SIGKILL ends even a ptrace stop)
  }
  publish(channel, TracerPhase::Stopped);
  futex_wait(channel.phase, TracerPhase::Stopped);
  detach_every_thread(channel);
  return 0;  // glibc's clone makes the exit system call itself
}

#undef HEAPSNAP_TRACER

// ---------------------------------------------------------------------------------------------------
// The caller's side: a normal thread of the program.

std::string describe_error(const char* step, long error, pid_t tid) {
  std::string text = step;
  if (tid != 0) text += " of thread " + std::to_string(tid);
  if (error != 0) text += ": " + std::string(std::strerror(static_cast<int>(error)));
  return (error == EPERM ? "ptrace not permitted: " : "ptrace failed: ") + text;
}

// Yama's ptrace_scope (0 when yama is absent): 3 forbids every attach, even to the tracer's parent.
int yama_ptrace_scope() {
  const std::optional<std::string> scope = read_proc_file("/proc/sys/kernel/yama/ptrace_scope");
  return scope ? std::atoi(scope->c_str()) : 0;
}

std::size_t count_threads() {
  const std::optional<std::string> status = read_proc_file("/proc/self/status");
  return status ? std::strtoul(std::string(proc_status_field(*status, "Threads")).c_str(), nullptr, 10) : 0;
}

// The registers in the layout a signal handler's ucontext has, which the root scan reads.
void to_ucontext_layout(const user_regs_struct& from, gregset_t& to) {
  const auto set = [&to](int index, unsigned long long value) { to[index] = static_cast<greg_t>(value); };
  set(REG_R8, from.r8);   set(REG_R9, from.r9);   set(REG_R10, from.r10); set(REG_R11, from.r11);
  set(REG_R12, from.r12); set(REG_R13, from.r13); set(REG_R14, from.r14); set(REG_R15, from.r15);
  set(REG_RDI, from.rdi); set(REG_RSI, from.rsi); set(REG_RBP, from.rbp); set(REG_RBX, from.rbx);
  set(REG_RDX, from.rdx); set(REG_RAX, from.rax); set(REG_RCX, from.rcx); set(REG_RSP, from.rsp);
  set(REG_RIP, from.rip); set(REG_EFL, from.eflags);
}

bool wait_while(std::atomic<std::uint32_t>& phase, TracerPhase while_is, std::chrono::steady_clock::time_point deadline) {
  while (phase.load() == static_cast<std::uint32_t>(while_is)) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= 0s) return false;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    const timespec timeout{static_cast<time_t>(seconds.count()),
                           static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - seconds).count())};
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&phase), FUTEX_WAIT, static_cast<std::uint32_t>(while_is), &timeout, nullptr, 0);
  }
  return true;
}

}  // namespace

PtraceStop::PtraceStop(pid_t caller, pid_t also_running) {
  if (yama_ptrace_scope() >= 3) {
    failure_ = "ptrace not permitted: yama ptrace_scope is 3";
    return;
  }
  // Room for the threads there are now and for many created while they are being stopped.
  const std::uint32_t capacity = static_cast<std::uint32_t>(count_threads() * 4 + 256);
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  channel_bytes_ = (sizeof(TracerChannel) + capacity * sizeof(TracedThread) + page - 1) / page * page;
  // heapsnap's own memory, which the leak scan leaves out: the channel holds every thread's registers,
  // the caller-saved ones of threads stopped in a system call too (dead values there), and the
  // tracer's stack copies of them.
  void* memory = alloc::os_map_internal(channel_bytes_);
  tracer_stack_ = alloc::os_map_internal(kTracerStackBytes);
  if (memory == nullptr || tracer_stack_ == nullptr) {
    if (memory != nullptr) alloc::os_unmap_internal(memory, channel_bytes_);
    if (tracer_stack_ != nullptr) alloc::os_unmap_internal(tracer_stack_, kTracerStackBytes);
    tracer_stack_ = nullptr;
    failure_ = "ptrace failed: no memory for the tracer";
    return;
  }
  mprotect(tracer_stack_, page, PROT_NONE);  // a guard page: an overflow faults instead of corrupting
  channel_ = new (memory) TracerChannel{};
  channel_->clone_tid = -1;
  channel_->process = getpid();
  channel_->parent = getpid();
  channel_->skip[0] = caller;
  channel_->skip[1] = also_running > 0 ? also_running : caller;
  channel_->capacity = capacity;
  channel_->threads = reinterpret_cast<TracedThread*>(static_cast<char*>(memory) + sizeof(TracerChannel));

  // No handler of the program may run on the tracer (it shares this thread's TLS): it starts with
  // every signal blocked. No exit signal, so that a program's waitpid(-1) never reaps it.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  tracer_ = clone(run_tracer, static_cast<char*>(tracer_stack_) + kTracerStackBytes,
                  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED | CLONE_CHILD_CLEARTID, channel_, nullptr, nullptr,
                  &channel_->clone_tid);
  const int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (tracer_ < 0) {
    fail("ptrace failed: clone of the tracer: " + std::string(std::strerror(clone_error)));
    return;
  }
  // Under yama's ptrace_scope 1 only a process's declared ptracer may attach to it (EINVAL: no yama).
  prctl(PR_SET_PTRACER, tracer_, 0, 0, 0);
  publish(*channel_, TracerPhase::MayAttach);

  if (!wait_while(channel_->phase, TracerPhase::MayAttach, std::chrono::steady_clock::now() + kTracerTimeout)) {
    kill(tracer_, SIGKILL);  // the kernel detaches a dead tracer's tracees and lets them run
    fail("ptrace failed: the tracer did not stop every thread within " + std::to_string(kTracerTimeout.count()) + " s");
    return;
  }
  if (channel_->phase.load() == static_cast<std::uint32_t>(TracerPhase::Failed)) {
    fail(describe_error(channel_->failed_step, channel_->error, channel_->failed_tid));
    return;
  }
  std::size_t stopped = 0;
  for (std::uint32_t i = 0; i < channel_->count; ++i) stopped += channel_->threads[i].state == TracedState::Stopped;
  threads_ = std::vector<StoppedThread>(stopped);
  StoppedThread* slot = threads_.data();
  for (std::uint32_t i = 0; i < channel_->count; ++i) {
    const TracedThread& traced = channel_->threads[i];
    if (traced.state != TracedState::Stopped) continue;
    slot->tid = traced.tid;
    to_ucontext_layout(traced.registers, slot->registers);
    slot->stack_pointer = traced.registers.rsp;
    slot->thread_pointer = traced.registers.fs_base;
    slot->stopped.store(true);
    ++slot;
  }
}

PtraceStop::~PtraceStop() {
  if (channel_ == nullptr) return;
  if (tracer_ > 0) {
    publish(*channel_, TracerPhase::Resume);
    reap_tracer();
  }
  release_memory();
}

void PtraceStop::fail(std::string reason) {
  failure_ = std::move(reason);
  reap_tracer();
  release_memory();
}

// The tracer's stack and channel may be unmapped only once it has exited: waitpid says so, and the
// cleared clone_tid says so even if someone else (a program's waitpid(-1, __WALL)) reaped it first.
void PtraceStop::reap_tracer() {
  if (tracer_ <= 0) return;
  int status = 0;
  while (waitpid(tracer_, &status, __WALL) < 0 && errno == EINTR) {
  }
  for (pid_t alive = __atomic_load_n(&channel_->clone_tid, __ATOMIC_SEQ_CST); alive != 0;
       alive = __atomic_load_n(&channel_->clone_tid, __ATOMIC_SEQ_CST))
    syscall(SYS_futex, &channel_->clone_tid, FUTEX_WAIT, alive, nullptr, nullptr, 0);
  tracer_ = -1;
}

void PtraceStop::release_memory() {
  if (channel_ != nullptr) alloc::os_unmap_internal(channel_, channel_bytes_);
  if (tracer_stack_ != nullptr) alloc::os_unmap_internal(tracer_stack_, kTracerStackBytes);
  channel_ = nullptr;
  tracer_stack_ = nullptr;
}

}  // namespace heapsnap::collector

#else  // not x86-64: the signal method only

namespace heapsnap::collector {

struct TracerChannel {};

PtraceStop::PtraceStop(pid_t, pid_t) : failure_("ptrace is not supported on this architecture") {}
PtraceStop::~PtraceStop() = default;
void PtraceStop::fail(std::string reason) { failure_ = std::move(reason); }
void PtraceStop::reap_tracer() {}
void PtraceStop::release_memory() {}

}  // namespace heapsnap::collector

#endif
