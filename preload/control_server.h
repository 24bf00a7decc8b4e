#pragma once
// The control socket `heapsnap ctl` talks to: a Unix domain socket at
// environment::control_socket_path(getpid()), in a directory of mode 0700, the socket itself mode
// 0600, and every connection's peer checked with SO_PEERCRED: only the process's own user (or root)
// is served. A thread of heapsnap's own accepts one request per connection, a line of text, and
// answers with a line (`live` with a line and then the bytes it announces):
//
//   status                  -> {"pid":...,"tracing":...,"depth":...,"traced_bytes":...,"peak_bytes":...}
//   start [DEPTH]           -> ok | error: ...
//   stop                    -> ok
//   snapshot PATH [leaks]   -> ok PATH | error: ...   (PATH absolute; written by this process)
//   live                    -> ok SIZE, then SIZE bytes: a snapshot (CBOR) of the per-site totals,
//                              which costs time in proportion to the sites, not to the heap | error: ...
//
// The socket's descriptor is moved high (heapsnap keeps no descriptor in the program's low numbers)
// and is checked before each accept: a program that closed it and reused its number never has its
// own connections taken.

#include <string>

namespace heapsnap {

struct ControlHandlers {
  std::string (*status)();                                  // the JSON line
  std::string (*start)(unsigned depth);                     // "" on success, else the reason
  void (*stop)();
  std::string (*snapshot)(const std::string& path, bool leaks);  // "" on success, else the reason
  // The live per-site totals as a snapshot in CBOR (heapsnap top); false, with the reason in `out`,
  // when there is none.
  bool (*live_sites)(std::string& out);
};

// Opens the socket and starts the thread. False (having said why on stderr) when it cannot.
bool start_control_server(const ControlHandlers& handlers) noexcept;
// In a forked child: the parent's socket and thread are not the child's. Opens the child's own when
// `serve` is true.
void restart_control_server_after_fork(bool serve) noexcept;
// Removes the socket file (at exit).
void close_control_server() noexcept;

}  // namespace heapsnap
