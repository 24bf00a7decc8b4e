#include "profiler/proc_file.h"

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
  for (std::size_t line = 0; line < status.size();) {
    std::size_t end = status.find('\n', line);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view text = status.substr(line, end - line);
    if (text.size() > name.size() && text.starts_with(name) && text[name.size()] == ':') {
      std::string_view value = text.substr(name.size() + 1);
      const std::size_t first = value.find_first_not_of(" \t");
      if (first == std::string_view::npos) return {};
      value.remove_prefix(first);
      return value.substr(0, value.find_last_not_of(" \t") + 1);
    }
    line = end + 1;
  }
  return {};
}

}  // namespace heapsnap
