#include "profiler/elf_symbols.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

namespace heapsnap {
namespace {

bool read_exactly(int fd, void* buffer, std::size_t size, off_t offset) {
  auto* bytes = static_cast<char*>(buffer);
  while (size > 0) {
    const ssize_t got = ::pread(fd, bytes, size, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    bytes += got;
    size -= static_cast<std::size_t>(got);
    offset += got;
  }
  return true;
}

bool is_own_symbol_section(std::string_view name) {
  return name == ".symtab" || name == ".debug_info" || name == ".zdebug_info";
}

class ClosingFd {
 public:
  explicit ClosingFd(int fd) : fd_(fd) {}
  ~ClosingFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ClosingFd(const ClosingFd&) = delete;
  ClosingFd& operator=(const ClosingFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

bool carries_own_symbols(const char* path) noexcept {
  // e_shnum is 16 bits, which bounds the section table; 0 means "extended": not handled.
  constexpr std::size_t kMaxSectionNames = 1 << 20;    // .shstrtab is a few KiB in practice
  try {
    const ClosingFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return false;
    Elf64_Ehdr header;
    if (!read_exactly(fd.get(), &header, sizeof header, 0)) return false;
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64) return false;
    if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0 ||
        header.e_shstrndx >= header.e_shnum) {
      return false;
    }
    std::vector<Elf64_Shdr> sections(header.e_shnum);
    if (!read_exactly(fd.get(), sections.data(), sections.size() * sizeof(Elf64_Shdr),
                      static_cast<off_t>(header.e_shoff))) {
      return false;
    }
    const Elf64_Shdr& names_section = sections[header.e_shstrndx];
    if (names_section.sh_size == 0 || names_section.sh_size > kMaxSectionNames) return false;
    std::vector<char> names(names_section.sh_size + 1, '\0');  // the extra NUL ends a malformed last name
    if (!read_exactly(fd.get(), names.data(), names_section.sh_size, static_cast<off_t>(names_section.sh_offset))) {
      return false;
    }
    for (const Elf64_Shdr& section : sections) {
      if (section.sh_name >= names_section.sh_size) continue;
      if (section.sh_type == SHT_NOBITS) continue;  // a placeholder: the contents live elsewhere
      if (is_own_symbol_section(names.data() + section.sh_name)) return true;
    }
    return false;
  } catch (...) {  // std::bad_alloc: treat as "no symbols", the dynamic symbol table still answers
    return false;
  }
}

}  // namespace heapsnap
