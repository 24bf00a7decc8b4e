#include "cli/control_client.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "preload/environment.h"

namespace heapsnap::cli {
namespace {

bool process_exists(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// Another user's process: its socket is in that user's private directory, which this user cannot
// reach, and it would refuse the connection anyway (SO_PEERCRED).
bool belongs_to_another_user(pid_t pid) {
  struct stat info {};
  return getuid() != 0 && stat(("/proc/" + std::to_string(pid)).c_str(), &info) == 0 && info.st_uid != getuid();
}

std::string process_name(pid_t pid) { return "process " + std::to_string(pid); }

class Connection {
 public:
  explicit Connection(pid_t pid) : pid_(pid) {
    const std::string path = environment::control_socket_path(pid);
    if (!process_exists(pid)) {
      if (std::filesystem::is_socket(path)) std::filesystem::remove(path);  // a dead process's: clean it up
      throw ControlError(process_name(pid) + " is not running");
    }
    if (belongs_to_another_user(pid)) throw ControlError("permission denied: " + process_name(pid) + " belongs to another user");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) throw ControlError("the control socket's path is too long: " + path);
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw ControlError(std::string("cannot make a socket: ") + std::strerror(errno));
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      close(fd_);
      if (error == ENOENT || error == ECONNREFUSED)
        throw ControlError(process_name(pid) + " is not running heapsnap with a control socket (no " + path +
                           "; start it with `heapsnap run --dormant` or `heapsnap run --control`)");
      if (error == EACCES || error == EPERM)
        throw ControlError("permission denied: " + process_name(pid) + "'s control socket belongs to another user");
      throw ControlError("cannot connect to " + path + ": " + std::strerror(error));
    }
  }
  ~Connection() { close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send_line(const std::string& request) {
    const std::string line = request + "\n";
    if (send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
      throw ControlError(process_name(pid_) + " closed its control socket");
  }

  // Reads until `enough(received)` holds, within `timeout_ms` per read.
  template <typename Enough>
  void receive_until(Enough&& enough, int timeout_ms) {
    char buffer[65536];
    while (!enough(received_)) {
      pollfd ready{fd_, POLLIN, 0};
      const int polled = poll(&ready, 1, timeout_ms);
      if (polled < 0 && errno == EINTR) continue;
      if (polled == 0)
        throw ControlError(process_name(pid_) + " did not answer within " + std::to_string(timeout_ms / 1000) + " s");
      const ssize_t got = read(fd_, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw ControlError(process_name(pid_) + " ended before it answered");
      received_.append(buffer, static_cast<std::size_t>(got));
    }
  }

  // The first line received, without its newline; what follows it stays in `rest`.
  std::string answer_line(int timeout_ms, std::string& rest) {
    receive_until([](const std::string& received) { return received.find('\n') != std::string::npos; }, timeout_ms);
    const std::size_t end = received_.find('\n');
    std::string line = received_.substr(0, end);
    rest = received_.substr(end + 1);
    received_.clear();
    if (line.starts_with("error: ")) throw ControlError(process_name(pid_) + ": " + line.substr(7));
    return line;
  }

  std::string& received() { return received_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
  int fd_ = -1;
  std::string received_;
};

}  // namespace

std::string ask(pid_t pid, const std::string& request, int timeout_ms) {
  Connection connection(pid);
  connection.send_line(request);
  std::string rest;
  return connection.answer_line(timeout_ms, rest);
}

std::string ask_for_bytes(pid_t pid, const std::string& request, int timeout_ms) {
  Connection connection(pid);
  connection.send_line(request);
  std::string rest;
  const std::string line = connection.answer_line(timeout_ms, rest);
  std::size_t size = 0;
  const char* digits = line.c_str() + 3;
  const auto [end, error] = std::from_chars(digits, line.c_str() + line.size(), size);
  if (!line.starts_with("ok ") || error != std::errc{} || end != line.c_str() + line.size())
    throw ControlError(process_name(pid) + " gave an answer heapsnap does not understand: " + line.substr(0, 80));
  connection.received() = std::move(rest);
  connection.receive_until([size](const std::string& received) { return received.size() >= size; }, timeout_ms);
  connection.received().resize(size);
  return std::move(connection.received());
}

}  // namespace heapsnap::cli
