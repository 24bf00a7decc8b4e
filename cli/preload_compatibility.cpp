#include "cli/preload_compatibility.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace heapsnap::cli {
namespace {

// The file execvp would run: `program` itself when it has a '/', else the first executable regular
// file of that name in PATH.
std::optional<std::string> resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const std::size_t colon = directories.find(':');
    std::string directory(directories.substr(0, colon));
    const std::string candidate = (directory.empty() ? "." : directory) + "/" + program;
    struct stat status {};
    if (::stat(candidate.c_str(), &status) == 0 && S_ISREG(status.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    directories.remove_prefix(colon + 1);
  }
}

bool read_at(int fd, void* buffer, std::size_t size, off_t offset) {
  return ::pread(fd, buffer, size, offset) == static_cast<ssize_t>(size);
}

// True for a 64-bit ELF executable with no PT_INTERP: nothing loads shared libraries into it.
bool is_static_elf(const std::string& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool is_static = false;
  Elf64_Ehdr header;
  if (read_at(fd, &header, sizeof header, 0) && std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 &&
      header.e_ident[EI_CLASS] == ELFCLASS64 && header.e_phentsize == sizeof(Elf64_Phdr) &&
      (header.e_type == ET_EXEC || header.e_type == ET_DYN)) {
    std::vector<Elf64_Phdr> segments(header.e_phnum);
    if (read_at(fd, segments.data(), segments.size() * sizeof(Elf64_Phdr), static_cast<off_t>(header.e_phoff))) {
      bool has_interpreter = false;
      for (const Elf64_Phdr& segment : segments) has_interpreter |= segment.p_type == PT_INTERP;
      // Without PT_INTERP the kernel starts the program itself: a static executable, or a static-pie
      // (ET_DYN with an entry point). A shared library (no entry point) is not a program to run.
      is_static = !has_interpreter && (header.e_type == ET_EXEC || header.e_entry != 0);
    }
  }
  ::close(fd);
  return is_static;
}

}  // namespace

std::optional<std::string> why_preload_cannot_work(const std::string& program) {
  const std::optional<std::string> file = resolve(program);
  if (!file) return std::nullopt;
  struct stat status {};
  if (::stat(file->c_str(), &status) != 0) return std::nullopt;
  if (((status.st_mode & S_ISUID) != 0 && status.st_uid != ::getuid()) ||
      ((status.st_mode & S_ISGID) != 0 && status.st_gid != ::getgid())) {
    return *file + " is set-user-ID or set-group-ID: the dynamic loader ignores LD_PRELOAD for it, so heapsnap "
                   "cannot profile it (run it as its owner, or profile a copy without the bit)";
  }
  if (is_static_elf(*file)) {
    return *file + " is statically linked: there is no dynamic loader to preload heapsnap into it "
                   "(build it dynamically linked, or link it against libheapsnap_preload.so and use the API)";
  }
  return std::nullopt;
}

}  // namespace heapsnap::cli
