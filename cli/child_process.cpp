#include "cli/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

namespace heapsnap::cli {
namespace {

// The child's pid while heapsnap waits for it; read by the forwarding signal handler.
volatile sig_atomic_t g_forward_to = 0;

extern "C" void forward_signal(int signal_number) {
  const int saved_errno = errno;
  if (g_forward_to > 0) ::kill(static_cast<pid_t>(g_forward_to), signal_number);
  errno = saved_errno;
}

constexpr int kCancelledExitStatus = 125;
constexpr std::array kIgnoredSignals = {SIGINT, SIGQUIT, SIGPIPE};  // SIGPIPE: the handshake may hit a dead child
constexpr std::array kForwardedSignals = {SIGTERM, SIGHUP};

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_.data(), O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_read();
    close_write();
  }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  std::array<int, 2> fds_{-1, -1};
};

// Ignores and forwards signals in heapsnap for as long as it lives; restores the old dispositions.
class SignalDispositions {
 public:
  explicit SignalDispositions(pid_t child) {
    g_forward_to = child;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    struct sigaction forward {};
    forward.sa_handler = forward_signal;
    sigemptyset(&forward.sa_mask);
    forward.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < kIgnoredSignals.size(); ++i) sigaction(kIgnoredSignals[i], &ignore, &saved_ignored_[i]);
    for (std::size_t i = 0; i < kForwardedSignals.size(); ++i) {
      sigaction(kForwardedSignals[i], &forward, &saved_forwarded_[i]);
    }
  }
  SignalDispositions(const SignalDispositions&) = delete;
  SignalDispositions& operator=(const SignalDispositions&) = delete;
  ~SignalDispositions() {
    for (std::size_t i = 0; i < kIgnoredSignals.size(); ++i) sigaction(kIgnoredSignals[i], &saved_ignored_[i], nullptr);
    for (std::size_t i = 0; i < kForwardedSignals.size(); ++i) {
      sigaction(kForwardedSignals[i], &saved_forwarded_[i], nullptr);
    }
    g_forward_to = 0;
  }

 private:
  std::array<struct sigaction, kIgnoredSignals.size()> saved_ignored_{};
  std::array<struct sigaction, kForwardedSignals.size()> saved_forwarded_{};
};

// Writes `value` in decimal at `out` followed by a NUL; async-signal-safe (runs between fork and exec).
void write_decimal(char* out, long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

// Slots in the child's environment that it fills in itself, after fork.
struct ChildSlots {
  char* own_pid_value = nullptr;  // room for a pid
  char* late_value = nullptr;     // room for kMaxLateValue bytes and a NUL
};

// The child's side of the handshake: reads "g" + the late value until EOF. Anything else, including
// EOF alone (heapsnap cancelled or died), means do not run.
[[noreturn]] void run_child(const std::vector<char*>& argv, const std::vector<char*>& envp, ChildSlots slots,
                            const sigset_t& original_mask, Pipe& go, Pipe& exec_error) {
  go.close_write();
  exec_error.close_read();
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  char message[1 + kMaxLateValue + 1];
  std::size_t length = 0;
  for (;;) {
    const ssize_t got = ::read(go.read_end(), message + length, sizeof message - length);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    length += static_cast<std::size_t>(got);
    if (length == sizeof message) ::_exit(kCancelledExitStatus);  // longer than promised
  }
  if (length == 0 || message[0] != 'g') ::_exit(kCancelledExitStatus);
  if (slots.late_value != nullptr) {
    std::memcpy(slots.late_value, message + 1, length - 1);
    slots.late_value[length - 1] = '\0';
  }
  if (slots.own_pid_value != nullptr) write_decimal(slots.own_pid_value, static_cast<long>(::getpid()));
  ::execvpe(argv[0], argv.data(), envp.data());
  const int error = errno;
  [[maybe_unused]] const ssize_t ignored = ::write(exec_error.write_end(), &error, sizeof error);
  ::_exit(error == ENOENT ? 127 : 126);
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  }
  return status;
}

}  // namespace

ProgramOutcome run_program(const ProgramLaunch& launch,
                           const std::function<std::optional<std::string>(pid_t)>& before_exec) {
  if (launch.argv.empty()) throw std::invalid_argument("run_program: empty argv");

  // Everything the child needs is prepared here: between fork and exec it only reads, writes and execs.
  std::vector<std::string> environment = launch.environment;
  const auto reserve_slot = [&](const std::string& variable, std::size_t room) -> std::optional<std::size_t> {
    if (variable.empty()) return std::nullopt;
    std::erase_if(environment, [&](const std::string& entry) { return entry.starts_with(variable + "="); });
    environment.push_back(variable + "=" + std::string(room + 1, '\0'));
    return environment.size() - 1;
  };
  const std::optional<std::size_t> own_pid_entry = reserve_slot(launch.own_pid_variable, 23);
  const std::optional<std::size_t> late_entry = reserve_slot(launch.late_variable, kMaxLateValue);
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments = launch.argv;
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  ChildSlots slots;
  if (own_pid_entry) slots.own_pid_value = environment[*own_pid_entry].data() + launch.own_pid_variable.size() + 1;
  if (late_entry) slots.late_value = environment[*late_entry].data() + launch.late_variable.size() + 1;

  Pipe go;          // heapsnap -> child: "g" + late value + EOF means "exec now"; EOF alone "give up"
  Pipe exec_error;  // child -> heapsnap: execvpe's errno; EOF (close-on-exec) means exec succeeded

  // Signals stay blocked from before fork until the dispositions are in place, so that none is lost
  // or handled with the wrong disposition in between.
  sigset_t handled, original_mask;
  sigemptyset(&handled);
  for (int signal_number : kIgnoredSignals) sigaddset(&handled, signal_number);
  for (int signal_number : kForwardedSignals) sigaddset(&handled, signal_number);
  sigprocmask(SIG_BLOCK, &handled, &original_mask);

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    throw std::runtime_error(std::string("fork: ") + std::strerror(error));
  }
  if (pid == 0) run_child(argv, envp, slots, original_mask, go, exec_error);

  go.close_read();
  exec_error.close_write();
  SignalDispositions dispositions(pid);
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);

  std::optional<std::string> late_value;
  try {
    late_value = before_exec(pid);
    if (late_value && late_value->size() > kMaxLateValue) {
      throw std::length_error(launch.late_variable + " is longer than " + std::to_string(kMaxLateValue) + " bytes");
    }
  } catch (...) {
    go.close_write();
    wait_for(pid);
    throw;
  }
  if (!late_value) {
    go.close_write();
    wait_for(pid);
    return {ProgramOutcome::Kind::Cancelled, 0};
  }

  const std::string message = "g" + *late_value;
  for (std::size_t sent = 0; sent < message.size();) {
    const ssize_t written = ::write(go.write_end(), message.data() + sent, message.size() - sent);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) break;  // the child is gone: its status tells what happened
    sent += static_cast<std::size_t>(written);
  }
  go.close_write();
  int error = 0;
  ssize_t got;
  do {
    got = ::read(exec_error.read_end(), &error, sizeof error);
  } while (got < 0 && errno == EINTR);
  const int status = wait_for(pid);

  if (got == static_cast<ssize_t>(sizeof error)) return {ProgramOutcome::Kind::NotStarted, error};
  if (WIFSIGNALED(status)) return {ProgramOutcome::Kind::Signaled, WTERMSIG(status)};
  return {ProgramOutcome::Kind::Exited, WEXITSTATUS(status)};
}

}  // namespace heapsnap::cli
