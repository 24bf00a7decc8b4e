#include "collector/signal_stop.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asm/prctl.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <mutex>
#include <set>
#include <string>

#include "collector/thread_list.h"
#include "runtime/futex.h"
#include "runtime/proc_file.h"
#include "runtime/signal_chain.h"

namespace heapsnap::collector {
namespace {

// SIGPWR, as the Boehm collector uses on Linux: programs almost never use it. Our handler stays
// installed once set (a thread that blocked the signal may take it long after a stop is over, and
// must not then die of SIGPWR's default action); outside a stop it passes the signal on to whatever
// handler the program had.
constexpr int kStopSignal = SIGPWR;
constexpr auto kAnswerTimeout = std::chrono::seconds(2);
constexpr int kMaxRelistRounds = 16;

// The handler and the stopper meet through these; seq_cst throughout, because each side stores one
// and then loads the other (store-load order matters).
std::atomic<StoppedThread*> g_slots{nullptr};
std::atomic<std::size_t> g_slot_count{0};
std::atomic<bool> g_stopping{false};
std::atomic<std::uint32_t> g_resume_epoch{0};  // futex word: changes when the world resumes
std::atomic<std::size_t> g_in_handler{0};      // handlers that have not returned yet
struct sigaction g_program_action;              // what the program had installed before us
std::once_flag g_install_once;


StoppedThread* slot_of(pid_t tid) {
  StoppedThread* slots = g_slots.load();
  const std::size_t count = g_slot_count.load();
  for (std::size_t i = 0; i < count; ++i)
    if (slots[i].tid == tid) return &slots[i];
  return nullptr;
}

void on_stop_signal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  g_in_handler.fetch_add(1);
  const std::uint32_t epoch = g_resume_epoch.load();  // before g_stopping: see ~WorldStop
  StoppedThread* slot = g_stopping.load() ? slot_of(static_cast<pid_t>(syscall(SYS_gettid))) : nullptr;
  if (slot == nullptr) {
    g_in_handler.fetch_sub(1);
    pass_on_to_program(g_program_action, signal, info, context);
    errno = saved_errno;
    return;
  }
  const auto* uc = static_cast<const ucontext_t*>(context);
  for (int r = 0; r < NGREG; ++r) slot->registers[r] = uc->uc_mcontext.gregs[r];
#if defined(__x86_64__)
  slot->stack_pointer = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  unsigned long fs = 0;
  syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
  slot->thread_pointer = fs;
#endif
  slot->stopped.store(true);
  while (g_resume_epoch.load() == epoch) futex_wait(g_resume_epoch, epoch, std::chrono::milliseconds(-1));
  g_in_handler.fetch_sub(1);
  errno = saved_errno;
}

void install_handler_once() {
  std::call_once(g_install_once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_stop_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    sigaction(kStopSignal, &action, &g_program_action);
  });
}

enum class SignalAnswer { Expected, Never, NoStack };

// Whether `tid` can answer the stop signal: not when it blocks it (it would only take it after the
// stop is over, so waiting for it is pointless), and not when it is a zombie (a main thread that
// called pthread_exit: it has no stack left to scan).
SignalAnswer signal_answer(pid_t tid) {
  const std::optional<std::string> status = read_proc_file(("/proc/self/task/" + std::to_string(tid) + "/status").c_str());
  if (!status) return SignalAnswer::Expected;
  const std::string_view state = proc_status_field(*status, "State");
  if (state.starts_with('Z') || state.starts_with('X')) return SignalAnswer::NoStack;
  const std::string_view blocked_text = proc_status_field(*status, "SigBlk");
  if (blocked_text.empty()) return SignalAnswer::Expected;
  const unsigned long long blocked = std::strtoull(std::string(blocked_text).c_str(), nullptr, 16);
  return (blocked >> (kStopSignal - 1) & 1) != 0 ? SignalAnswer::Never : SignalAnswer::Expected;
}

}  // namespace

SignalStop::SignalStop(pid_t caller, pid_t also_running) {
  // Slots are made before any thread is signalled: the handler only reads this array. Threads
  // created during the stop are found by listing again; the reserve bounds how many that may be.
  std::set<pid_t> known = list_other_threads(caller, also_running);
  slots_ = std::vector<StoppedThread>(known.size() * 2 + 64);
  for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i].tid = -1;
  g_slots.store(slots_.data(), std::memory_order_release);
  g_slot_count.store(slots_.size(), std::memory_order_release);

  install_handler_once();
  g_stopping.store(true);

  const pid_t pid = getpid();
  std::set<pid_t> signalled;
  for (int round = 0; round < kMaxRelistRounds && !known.empty(); ++round) {
    for (pid_t tid : known) {
      if (signalled.count(tid) != 0 || signalled_ >= slots_.size()) continue;
      if (const SignalAnswer answer = signal_answer(tid); answer != SignalAnswer::Expected) {
        signalled.insert(tid);  // not to be looked at again
        if (answer == SignalAnswer::Never) ++unresponsive_;
        continue;
      }
      slots_[signalled_].tid = tid;
      if (syscall(SYS_tgkill, pid, tid, kStopSignal) == 0) {
        ++signalled_;
        signalled.insert(tid);
      } else {
        slots_[signalled_].tid = -1;  // it exited meanwhile
      }
    }
    std::set<pid_t> again = list_other_threads(caller, also_running);
    known.clear();
    for (pid_t tid : again)
      if (signalled.count(tid) == 0) known.insert(tid);
  }

  const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
  for (std::size_t i = 0; i < signalled_; ++i) {
    while (!slots_[i].stopped.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) sched_yield();
    if (slots_[i].stopped.load(std::memory_order_acquire)) stopped_.push_back(&slots_[i]);
    else ++unresponsive_;
  }
}

SignalStop::~SignalStop() {
  // Order matters: a handler reads the epoch and then g_stopping, so one that arrives now either
  // sees g_stopping false (and does not wait) or waits on the old epoch, which changes below.
  g_stopping.store(false);
  g_resume_epoch.fetch_add(1);
  futex_wake_all(g_resume_epoch);
  // The slots must outlive every handler that may still be reading them.
  const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
  while (g_in_handler.load() != 0 && std::chrono::steady_clock::now() < deadline) sched_yield();
  if (g_in_handler.load() != 0) new std::vector<StoppedThread>(std::move(slots_));  // leak rather than free under a handler
  g_slot_count.store(0);
  g_slots.store(nullptr);
}

}  // namespace heapsnap::collector
