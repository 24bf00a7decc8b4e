// heapsnap ctl PID start [--depth N] | stop | snapshot [-o FILE] [--leaks] | status: controls a process
// that runs with heapsnap loaded (`heapsnap run --dormant`, or any `heapsnap run --control`) through
// its control socket (preload/control_server.h).

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "preload/environment.h"

namespace heapsnap::cli {
namespace {

// A failure that is not the command line's: the process, its socket, its answer. Status 1.
class ControlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool process_exists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// Another user's process: its socket is in that user's private directory, which this user cannot
// reach, and it would refuse the connection anyway (SO_PEERCRED).
bool belongs_to_another_user(pid_t pid) {
  struct stat info {};
  return getuid() != 0 && stat(("/proc/" + std::to_string(pid)).c_str(), &info) == 0 && info.st_uid != getuid();
}

// Sends one request line and returns the answer line, without its newline.
std::string ask(pid_t pid, const std::string& request, int timeout_ms) {
  const std::string path = environment::control_socket_path(pid);
  if (!process_exists(pid)) {
    if (std::filesystem::is_socket(path)) std::filesystem::remove(path);  // a dead process's: clean it up
    throw ControlError("process " + std::to_string(pid) + " is not running");
  }
  if (belongs_to_another_user(pid))
    throw ControlError("permission denied: process " + std::to_string(pid) + " belongs to another user");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw ControlError("the control socket's path is too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ControlError(std::string("cannot make a socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    if (error == ENOENT || error == ECONNREFUSED)
      throw ControlError("process " + std::to_string(pid) + " is not running heapsnap with a control socket (no " + path +
                         "; start it with `heapsnap run --dormant` or `heapsnap run --control`)");
    if (error == EACCES || error == EPERM)
      throw ControlError("permission denied: process " + std::to_string(pid) + "'s control socket belongs to another user");
    throw ControlError("cannot connect to " + path + ": " + std::strerror(error));
  }
  const std::string line = request + "\n";
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
    throw ControlError("process " + std::to_string(pid) + " closed its control socket");
  std::string answer;
  char buffer[4096];
  while (answer.find('\n') == std::string::npos) {
    pollfd ready{fd, POLLIN, 0};
    const int polled = poll(&ready, 1, timeout_ms);
    if (polled == 0) throw ControlError("process " + std::to_string(pid) + " did not answer within " + std::to_string(timeout_ms / 1000) + " s");
    if (polled < 0 && errno == EINTR) continue;
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) throw ControlError("process " + std::to_string(pid) + " ended before it answered");
    answer.append(buffer, static_cast<std::size_t>(got));
  }
  answer.resize(answer.find('\n'));
  if (answer.starts_with("error: ")) throw ControlError("process " + std::to_string(pid) + ": " + answer.substr(7));
  return answer;
}

class CtlCommand final : public Command {
 public:
  std::string_view name() const override { return "ctl"; }
  std::string_view summary() const override {
    return "Control a running process's profiling: start, stop, snapshot, status (heapsnap run --dormant)";
  }

  void configure(CLI::App& app) override {
    app.add_option("PID", pid_, "The process, started by `heapsnap run --dormant` or `--control`")->required();
    app.require_subcommand(1);
    CLI::App* start = app.add_subcommand("start", "Start tracing allocations");
    start->add_option("--depth", depth_, "Frames recorded per allocation stack, 1-128 (default 16)")->check(CLI::Range(1, 128));
    app.add_subcommand("stop", "Stop tracing and forget every trace");
    CLI::App* snapshot = app.add_subcommand("snapshot", "Write a snapshot of the running process");
    snapshot->add_option("-o,--output", output_, "The snapshot file (default heapsnap.PID.ctl-<time>.json)")->option_text("FILE");
    snapshot->add_flag("--leaks", leaks_, "With a leak analysis (stops the program's threads briefly)");
    snapshot->add_flag("--force", force_, "Replace the file if it exists");
    app.add_subcommand("status", "Whether the process traces, and how much memory");
    app_ = &app;
  }

  int run() override {
    const std::string action = app_->get_subcommands().front()->get_name();
    try {
      if (action == "start") {
        ask(pid_, "start " + std::to_string(depth_), kTimeoutMs);
        std::cout << "heapsnap: process " << pid_ << " traces allocations (" << depth_ << " frames)\n";
      } else if (action == "stop") {
        ask(pid_, "stop", kTimeoutMs);
        std::cout << "heapsnap: process " << pid_ << " stopped tracing\n";
      } else if (action == "status") {
        std::cout << ask(pid_, "status", kTimeoutMs) << "\n";
      } else {
        std::filesystem::path path = output_.empty() ? "heapsnap." + std::to_string(pid_) + ".ctl.json" : output_;
        path = std::filesystem::absolute(path);
        if (!force_ && std::filesystem::exists(path))
          throw UsageError(path.string() + " exists: give --force to replace it, or another -o");
        const std::string answer = ask(pid_, "snapshot " + path.string() + (leaks_ ? " leaks" : ""), 10 * kTimeoutMs);
        std::cout << "heapsnap: wrote " << answer.substr(3) << "\n";
      }
    } catch (const ControlError& error) {
      std::cerr << "heapsnap: " << error.what() << "\n";
      return kExitCheckFailed;
    }
    return kExitSuccess;
  }

 private:
  static constexpr int kTimeoutMs = 30'000;
  CLI::App* app_ = nullptr;
  pid_t pid_ = 0;
  unsigned depth_ = 16;
  std::string output_;
  bool leaks_ = false;
  bool force_ = false;
};

}  // namespace

std::unique_ptr<Command> make_ctl_command() { return std::make_unique<CtlCommand>(); }

}  // namespace heapsnap::cli
