#include "runtime/elf_symbols.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
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

// The section headers of an ELF file, checked; empty when there are none or the file is not ELF64.
std::vector<Elf64_Shdr> read_sections(int fd) {
  Elf64_Ehdr header;
  if (!read_exactly(fd, &header, sizeof header, 0)) return {};
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64) return {};
  if (header.e_shentsize != sizeof(Elf64_Shdr) || header.e_shnum == 0 || header.e_shstrndx >= header.e_shnum) return {};
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  if (!read_exactly(fd, sections.data(), sections.size() * sizeof(Elf64_Shdr), static_cast<off_t>(header.e_shoff))) return {};
  return sections;
}

}  // namespace

DynamicSymbols DynamicSymbols::of_file(const char* path) noexcept {
  constexpr std::uint64_t kMaxTableBytes = std::uint64_t{1} << 30;
  DynamicSymbols result;
  try {
    const ClosingFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return result;
    const std::vector<Elf64_Shdr> sections = read_sections(fd.get());
    for (const Elf64_Shdr& table : sections) {
      if (table.sh_type != SHT_DYNSYM || table.sh_entsize != sizeof(Elf64_Sym) || table.sh_link >= sections.size()) continue;
      const Elf64_Shdr& strings = sections[table.sh_link];
      if (table.sh_size > kMaxTableBytes || strings.sh_size > kMaxTableBytes || strings.sh_type != SHT_STRTAB) return result;
      std::vector<Elf64_Sym> entries(table.sh_size / sizeof(Elf64_Sym));
      result.names_.assign(strings.sh_size + 1, '\0');  // the extra NUL ends a malformed last name
      if (!read_exactly(fd.get(), entries.data(), entries.size() * sizeof(Elf64_Sym), static_cast<off_t>(table.sh_offset)) ||
          !read_exactly(fd.get(), result.names_.data(), strings.sh_size, static_cast<off_t>(strings.sh_offset))) {
        return {};
      }
      for (const Elf64_Sym& entry : entries) {
        const unsigned type = ELF64_ST_TYPE(entry.st_info);
        if (entry.st_shndx == SHN_UNDEF || entry.st_value == 0 || entry.st_name >= strings.sh_size) continue;
        if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE && type != STT_OBJECT) continue;
        result.symbols_.push_back({entry.st_value, entry.st_size, entry.st_name});
      }
      std::sort(result.symbols_.begin(), result.symbols_.end(),
                [](const Symbol& a, const Symbol& b) { return a.start != b.start ? a.start < b.start : a.size > b.size; });
      return result;
    }
  } catch (...) {  // std::bad_alloc: no names from this table
    return {};
  }
  return result;
}

const char* DynamicSymbols::name_at(std::uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](std::uint64_t a, const Symbol& symbol) { return a < symbol.start; });
  if (it == symbols_.begin()) return nullptr;
  const std::uint64_t start = std::prev(it)->start;
  // Among the symbols at that address (aliases), the first that holds it; sized ones sort first.
  for (auto candidate = std::prev(it);; --candidate) {
    if (candidate->start != start) break;
    if (candidate->size == 0 || address - start < candidate->size) return names_.c_str() + candidate->name;
    if (candidate == symbols_.begin()) break;
  }
  return nullptr;
}

std::string loaded_build_id(std::uintptr_t load_bias) noexcept {
  struct Search {
    std::uintptr_t load_bias;
    std::string id;
  } search{load_bias, {}};
  try {
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) -> int {
          auto* search = static_cast<Search*>(data);
          if (info->dlpi_addr != search->load_bias) return 0;
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& segment = info->dlpi_phdr[i];
            if (segment.p_type != PT_NOTE) continue;
            // Notes: a header, the name and the descriptor, each padded to 4 bytes.
            const auto* note = reinterpret_cast<const unsigned char*>(info->dlpi_addr + segment.p_vaddr);
            const unsigned char* const end = note + segment.p_memsz;
            while (note + sizeof(ElfW(Nhdr)) <= end) {
              ElfW(Nhdr) header;
              std::memcpy(&header, note, sizeof header);
              const unsigned char* name = note + sizeof header;
              const unsigned char* descriptor = name + ((header.n_namesz + 3) & ~3u);
              const unsigned char* next = descriptor + ((header.n_descsz + 3) & ~3u);
              if (next > end || next <= note) break;
              if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
                  header.n_descsz > 0 && header.n_descsz <= 64) {
                static constexpr char kHex[] = "0123456789abcdef";
                for (std::uint32_t k = 0; k < header.n_descsz; ++k) {
                  search->id += kHex[descriptor[k] >> 4];
                  search->id += kHex[descriptor[k] & 15];
                }
                return 1;
              }
              note = next;
            }
          }
          return 1;  // the module, without a build-id
        },
        &search);
  } catch (...) {  // std::bad_alloc: no build-id, the frame keeps its address
    return {};
  }
  return search.id;
}

bool carries_own_symbols(const char* path) noexcept {
  // e_shnum is 16 bits, which bounds the section table; 0 means "extended": not handled.
  constexpr std::size_t kMaxSectionNames = 1 << 20;    // .shstrtab is a few KiB in practice
  try {
    const ClosingFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return false;
    Elf64_Ehdr header;
    if (!read_exactly(fd.get(), &header, sizeof header, 0)) return false;
    const std::vector<Elf64_Shdr> sections = read_sections(fd.get());
    if (sections.empty()) return false;
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
