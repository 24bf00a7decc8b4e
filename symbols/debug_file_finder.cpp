#include "symbols/debug_file_finder.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "symbols/debuginfod_library.h"

namespace heapsnap {
namespace {

class OpenElf {
 public:
  explicit OpenElf(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) return;
    elf_version(EV_CURRENT);
    elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
  }
  ~OpenElf() {
    if (elf_ != nullptr) elf_end(elf_);
    if (fd_ >= 0) ::close(fd_);
  }
  OpenElf(const OpenElf&) = delete;
  OpenElf& operator=(const OpenElf&) = delete;
  Elf* get() const { return elf_; }

 private:
  int fd_;
  Elf* elf_ = nullptr;
};

// Whether the file has DWARF of its own (not only a stripped module's dynamic symbols).
bool has_debug_info(Elf* elf) {
  std::size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return false;
  for (Elf_Scn* section = elf_nextscn(elf, nullptr); section != nullptr; section = elf_nextscn(elf, section)) {
    GElf_Shdr header;
    if (gelf_getshdr(section, &header) == nullptr || header.sh_type == SHT_NOBITS) continue;
    const char* name = elf_strptr(elf, names, header.sh_name);
    if (name != nullptr && (std::strcmp(name, ".debug_info") == 0 || std::strcmp(name, ".zdebug_info") == 0)) return true;
  }
  return false;
}

std::string hex_build_id(Elf* elf) {
  const void* bytes = nullptr;
  const ssize_t size = elf == nullptr ? -1 : dwelf_elf_gnu_build_id(elf, &bytes);
  if (size <= 0) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (ssize_t i = 0; i < size; ++i) {
    const auto byte = static_cast<const unsigned char*>(bytes)[i];
    id += kHex[byte >> 4];
    id += kHex[byte & 15];
  }
  return id;
}

bool is_regular_file(const std::string& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

}  // namespace

// The file a stripped module's .gnu_debuglink names, where gdb looks for it: beside the module, in its
// .debug/ subdirectory, and under each debug directory followed by the module's directory. Only a
// file with the module's build-id is taken (a stale debug file would name the wrong functions).
std::optional<std::string> DebugFileFinder::debuglink_target(Elf* module, const std::string& module_path,
                                                            const std::string& build_id) const {
  GElf_Word crc = 0;
  const char* name = dwelf_elf_gnu_debuglink(module, &crc);
  if (name == nullptr || *name == '\0') return std::nullopt;
  const std::filesystem::path directory = std::filesystem::absolute(module_path).parent_path();
  std::vector<std::filesystem::path> candidates{directory / name, directory / ".debug" / name};
  for (const std::string& debug_directory : sources_.debug_directories)
    candidates.push_back(std::filesystem::path(debug_directory) / directory.relative_path() / name);
  for (const std::filesystem::path& candidate : candidates) {
    if (candidate == std::filesystem::absolute(module_path) || !is_regular_file(candidate.string())) continue;
    if (build_id_of_file(candidate.string()) == build_id) return candidate.string();
  }
  return std::nullopt;
}

struct DebugFileFinder::Client {
  debuginfod_client* handle = nullptr;
  std::chrono::steady_clock::time_point deadline;
};

std::string build_id_of_file(const std::string& path) {
  const OpenElf file(path);
  return hex_build_id(file.get());
}

DebugFileFinder::DebugFileFinder(DebugFileSources sources) : sources_(std::move(sources)) {}

DebugFileFinder::~DebugFileFinder() {
  if (client_ != nullptr && client_->handle != nullptr) debuginfod_library().end(client_->handle);
  delete client_;
}

std::optional<DebugFile> DebugFileFinder::find(const std::string& build_id, const std::string& module_path) {
  if (build_id.size() < 4) return std::nullopt;
  const std::string relative = ".build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2) + ".debug";
  for (const std::string& directory : sources_.debug_directories) {
    const std::string candidate = (std::filesystem::path(directory) / relative).string();
    if (is_regular_file(candidate)) return DebugFile{candidate, DebugFileOrigin::DebugDirectory};
  }
  if (!module_path.empty() && is_regular_file(module_path)) {
    const OpenElf module(module_path);
    if (module.get() != nullptr && hex_build_id(module.get()) == build_id) {
      if (has_debug_info(module.get())) return DebugFile{module_path, DebugFileOrigin::Module};
      if (std::optional<std::string> linked = debuglink_target(module.get(), module_path, build_id))
        return DebugFile{*linked, DebugFileOrigin::DebugDirectory};
    }
  }
  if (std::optional<std::string> fetched = fetch_from_debuginfod(build_id)) return DebugFile{*fetched, DebugFileOrigin::Debuginfod};
  return std::nullopt;
}

std::optional<std::string> DebugFileFinder::fetch_from_debuginfod(const std::string& build_id) {
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (!sources_.debuginfod || urls == nullptr || *urls == '\0') return std::nullopt;
  const DebuginfodLibrary& library = debuginfod_library();
  if (client_ == nullptr) {
    client_ = new Client;
    client_->deadline = std::chrono::steady_clock::now() + sources_.debuginfod_budget;
    if (!library.problem.empty()) {
      debuginfod_problem_ = library.problem;
      return std::nullopt;
    }
    client_->handle = library.begin();
    if (client_->handle == nullptr) {
      debuginfod_problem_ = "cannot start a debuginfod client";
      return std::nullopt;
    }
    library.set_user_data(client_->handle, client_);
    // Called while a transfer runs: a non-zero return cancels it once the run's budget is spent.
    library.set_progressfn(client_->handle, [](debuginfod_client* handle, long, long) -> int {
      const auto* client = static_cast<const Client*>(debuginfod_library().get_user_data(handle));
      return std::chrono::steady_clock::now() >= client->deadline ? 1 : 0;
    });
  }
  if (client_->handle == nullptr) return std::nullopt;
  if (std::chrono::steady_clock::now() >= client_->deadline) {
    if (debuginfod_problem_.empty())
      debuginfod_problem_ = "the time budget (" + std::to_string(sources_.debuginfod_budget.count()) + " ms) was spent";
    return std::nullopt;
  }
  char* path = nullptr;
  // A build-id given as text: length 0 tells libdebuginfod so.
  const int fd = library.find_debuginfo(client_->handle, reinterpret_cast<const unsigned char*>(build_id.c_str()), 0, &path);
  if (fd < 0) {
    if (std::chrono::steady_clock::now() >= client_->deadline)
      debuginfod_problem_ = "the time budget (" + std::to_string(sources_.debuginfod_budget.count()) + " ms) was spent";
    else if (fd != -ENOENT && debuginfod_problem_.empty())
      debuginfod_problem_ = std::string("debuginfod: ") + std::strerror(-fd);
    return std::nullopt;
  }
  ::close(fd);
  std::string result = path != nullptr ? path : "";
  std::free(path);
  if (result.empty()) return std::nullopt;
  return result;
}

}  // namespace heapsnap
