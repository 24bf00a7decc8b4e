#pragma once
// Where a module's debug information is, by the GNU build-id a snapshot recorded for it: a separate
// debug file under a debug directory (`DIR/.build-id/ab/cdef....debug`, where Debian's -dbg and -dbgsym
// packages install them), the module itself when it is still on this machine with its own symbols
// and the same build-id, the file its `.gnu_debuglink` names, or a debuginfod server (`DEBUGINFOD_URLS`), fetched through libdebuginfod
// into its client cache, within a time budget for the whole run so that a slow server never stalls.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

typedef struct Elf Elf;  // libelf's

namespace heapsnap {

struct DebugFileSources {
  std::vector<std::string> debug_directories{"/usr/lib/debug"};
  bool debuginfod = true;  // only when DEBUGINFOD_URLS is set, as for every debuginfod client
  std::chrono::milliseconds debuginfod_budget{10'000};
};

// How a file was found, for the summary the command prints.
enum class DebugFileOrigin { DebugDirectory, Module, Debuginfod };

struct DebugFile {
  std::string path;
  DebugFileOrigin origin;
};

class DebugFileFinder {
 public:
  explicit DebugFileFinder(DebugFileSources sources);
  ~DebugFileFinder();
  DebugFileFinder(const DebugFileFinder&) = delete;
  DebugFileFinder& operator=(const DebugFileFinder&) = delete;

  // `build_id` in lowercase hexadecimal; `module_path` is where the module was when it ran.
  std::optional<DebugFile> find(const std::string& build_id, const std::string& module_path);

  // Why debuginfod gave nothing, once, for the summary: "" when it was not asked or always answered.
  const std::string& debuginfod_problem() const { return debuginfod_problem_; }

 private:
  std::optional<std::string> fetch_from_debuginfod(const std::string& build_id);
  std::optional<std::string> debuglink_target(Elf* module, const std::string& module_path, const std::string& build_id) const;

  DebugFileSources sources_;
  std::string debuginfod_problem_;
  struct Client;
  Client* client_ = nullptr;
};

// The GNU build-id of an ELF file on disk, lowercase hexadecimal; "" when it has none or cannot be read.
std::string build_id_of_file(const std::string& path);

}  // namespace heapsnap
