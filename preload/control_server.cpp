#include "preload/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "preload/environment.h"
#include "preload/runtime.h"
#include "runtime/recursion_guard.h"

namespace heapsnap {
namespace {

ControlHandlers g_handlers{};
std::atomic<int> g_listener{-1};
ino_t g_listener_inode = 0;
std::atomic<pid_t> g_owner{0};  // the process whose socket file g_listener is bound to
std::string* g_path = nullptr;   // heapsnap's own memory (made under a RecursionGuard)

// A descriptor number away from the program's: the program numbers its own as if heapsnap were not here.
int move_high(int fd) noexcept {
  rlimit limit{};
  int floor = 512;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 1024)
    floor = static_cast<int>(limit.rlim_cur / 2);
  if (floor <= 2) return fd;
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
  if (high < 0) return fd;
  close(fd);
  return high;
}

// The directory of the control sockets, made if missing: a real directory (not a symlink), this
// user's, mode 0700, so that no other user can reach the sockets or plant one.
bool private_directory(const std::string& directory) noexcept {
  if (mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) return false;
  struct stat info {};
  if (lstat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != getuid()) return false;
  return (info.st_mode & 077) == 0 || chmod(directory.c_str(), 0700) == 0;
}

std::string handle(const std::string& request) {
  if (request == "status") return g_handlers.status();
  if (request == "stop") {
    g_handlers.stop();
    return "ok";
  }
  if (request == "start" || request.starts_with("start ")) {
    unsigned depth = 16;
    if (request.size() > 6) {
      char* end = nullptr;
      const unsigned long value = std::strtoul(request.c_str() + 6, &end, 10);
      if (*end != '\0' || value < 1 || value > 128) return "error: the depth must be 1..128";
      depth = static_cast<unsigned>(value);
    }
    const std::string problem = g_handlers.start(depth);
    return problem.empty() ? "ok" : "error: " + problem;
  }
  if (request.starts_with("snapshot ")) {
    std::string path = request.substr(9);
    bool leaks = false;
    if (path.ends_with(" leaks")) {
      leaks = true;
      path.resize(path.size() - 6);
    }
    if (path.empty() || path[0] != '/') return "error: the snapshot path must be absolute";
    const std::string problem = g_handlers.snapshot(path, leaks);
    return problem.empty() ? "ok " + path : "error: " + problem;
  }
  if (request == "live") {
    std::string payload;
    if (!g_handlers.live_sites(payload)) return "error: " + payload;
    return "ok " + std::to_string(payload.size()) + "\n" + payload;
  }
  return "error: unknown request";
}

// Whether `fd` is still the socket this server made: a program may close it and reuse the number.
bool still_ours(int fd) noexcept {
  struct stat info {};
  return fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode) && info.st_ino == g_listener_inode;
}

void serve_one(int connection) {
  ucred peer{};
  socklen_t size = sizeof peer;
  std::string reply;
  if (getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || (peer.uid != getuid() && peer.uid != 0)) {
    reply = "error: permission denied\n";
  } else {
    std::string request;
    char buffer[512];
    while (request.find('\n') == std::string::npos && request.size() < 8192) {
      pollfd ready{connection, POLLIN, 0};
      if (poll(&ready, 1, 2000) <= 0) break;  // a silent client is dropped
      const ssize_t got = read(connection, buffer, sizeof buffer);
      if (got <= 0) break;
      request.append(buffer, static_cast<std::size_t>(got));
    }
    const std::size_t end = request.find('\n');
    reply = (end == std::string::npos ? "error: incomplete request" : handle(request.substr(0, end))) + "\n";
  }
  for (std::size_t sent = 0; sent < reply.size();) {
    const ssize_t wrote = send(connection, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (wrote <= 0) break;
    sent += static_cast<std::size_t>(wrote);
  }
}

void* accept_requests(void*) {
  tl_inside_heapsnap = true;  // everything this thread allocates is heapsnap's own
  while (true) {
    const int listener = g_listener.load();
    if (listener < 0 || !still_ours(listener)) return nullptr;  // closed by the program: serve no more
    const int connection = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return nullptr;
    }
    try {
      serve_one(connection);
    } catch (...) {  // out of memory: this request gets no answer
    }
    close(connection);
  }
}

bool open_and_serve() noexcept {
  RecursionGuard guard;
  try {
    const std::string directory = environment::control_socket_directory();
    if (!private_directory(directory)) {
      say("no control socket: " + directory + " is not a private directory of this user");
      return false;
    }
    const std::string path = environment::control_socket_path(getpid());
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
      say("no control socket: its path is too long: " + path);
      return false;
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    unlink(path.c_str());  // a socket left by a dead process that had this pid
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 || chmod(path.c_str(), 0600) != 0 ||
        listen(fd, 8) != 0) {
      say("no control socket at " + path + ": " + std::strerror(errno));
      close(fd);
      return false;
    }
    const int high = move_high(fd);
    struct stat info {};
    fstat(high, &info);
    g_listener_inode = info.st_ino;
    delete g_path;
    g_path = new std::string(path);
    g_owner.store(getpid());
    g_listener.store(high);
    // The thread takes no signal of the program's: they must reach the program's own threads. Only
    // the stop signal of a leak analysis that cannot use ptrace gets through (collector/signal_stop.h):
    // this thread is then stopped and scanned like the others, not counted as one that blocks it.
    sigset_t all, previous;
    sigfillset(&all);
    sigdelset(&all, SIGPWR);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    const bool started = pthread_create(&thread, nullptr, accept_requests, nullptr) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (!started) {
      close_control_server();
      return false;
    }
    pthread_detach(thread);
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

bool start_control_server(const ControlHandlers& handlers) noexcept {
  g_handlers = handlers;
  return open_and_serve();
}

void restart_control_server_after_fork(bool serve) noexcept {
  const int inherited = g_listener.exchange(-1);
  if (inherited < 0) return;  // the parent had none
  close(inherited);           // the parent's: its file and its thread stay the parent's
  if (serve) open_and_serve();
}

void close_control_server() noexcept {
  const int listener = g_listener.exchange(-1);
  if (listener < 0 || g_owner.load() != getpid()) return;
  if (g_path != nullptr) unlink(g_path->c_str());
  // The descriptor stays open: the accepting thread may be inside accept() on it, and the process is ending.
}

}  // namespace heapsnap
