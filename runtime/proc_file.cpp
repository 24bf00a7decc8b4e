#include "runtime/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace heapsnap {

std::optional<std::string> read_proc_file(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string contents;
  char buffer[8192];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  return contents;
}

std::string_view proc_status_field(std::string_view status, std::string_view name) {
  std::string_view value;
  bool found = false;
  for_each_piece(status, '\n', [&](std::string_view line) {
    if (found || line.size() <= name.size() || !line.starts_with(name) || line[name.size()] != ':') return;
    found = true;
    value = line.substr(name.size() + 1);
    const std::size_t first = value.find_first_not_of(" \t");
    value = first == std::string_view::npos ? std::string_view{} : value.substr(first, value.find_last_not_of(" \t") + 1 - first);
  });
  return value;
}

}  // namespace heapsnap
