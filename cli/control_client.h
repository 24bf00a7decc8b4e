#pragma once
// The client side of a process's control socket (preload/control_server.h): one request per
// connection, for `heapsnap ctl` and `heapsnap top`.

#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace heapsnap::cli {

// A failure that is not the command line's: the process is gone, has no socket, is another user's,
// does not answer in time, or answered with an error. The message says which; commands exit 1.
class ControlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sends one request line and returns the answer line, without its newline. A socket left by a dead
// process is removed.
std::string ask(pid_t pid, const std::string& request, int timeout_ms);

// Sends a request answered with "ok SIZE" and SIZE bytes (the `live` request), and returns the bytes.
std::string ask_for_bytes(pid_t pid, const std::string& request, int timeout_ms);

}  // namespace heapsnap::cli
