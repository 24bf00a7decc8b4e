#include "cli/preload_locator.h"

#include <system_error>
#include <vector>

#include "cli/command.h"

#ifndef HEAPSNAP_BINDIR_TO_LIBDIR
#error "HEAPSNAP_BINDIR_TO_LIBDIR must be defined by the build (cli/CMakeLists.txt)"
#endif

namespace heapsnap::cli {
namespace {

bool names_regular_file(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

std::filesystem::path checked(const std::filesystem::path& library) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::weakly_canonical(library, error);
  if (error) absolute = std::filesystem::absolute(library);
  if (absolute.string().find_first_of(": ") != std::string::npos) {
    throw UsageError(absolute.string() + ": the preload library's path contains a space or a colon, which "
                                         "LD_PRELOAD cannot hold; move it or set HEAPSNAP_PRELOAD");
  }
  return absolute;
}

}  // namespace

std::filesystem::path locate_preload_library(const std::optional<std::string>& environment_override,
                                             const std::filesystem::path& heapsnap_executable) {
  if (environment_override && !environment_override->empty()) {
    const std::filesystem::path library = *environment_override;
    if (!names_regular_file(library)) {
      throw UsageError("HEAPSNAP_PRELOAD=" + *environment_override + ": no such file");
    }
    return checked(library);
  }
  const std::filesystem::path bin_directory = heapsnap_executable.parent_path();
  const std::vector<std::filesystem::path> candidates = {
      bin_directory / ".." / "lib" / kPreloadLibraryName,
      bin_directory / HEAPSNAP_BINDIR_TO_LIBDIR / "heapsnap" / kPreloadLibraryName,
      bin_directory / HEAPSNAP_BINDIR_TO_LIBDIR / kPreloadLibraryName,
  };
  std::string tried;
  for (const std::filesystem::path& candidate : candidates) {
    if (names_regular_file(candidate)) return checked(candidate);
    tried += (tried.empty() ? "" : ", ") + candidate.lexically_normal().string();
  }
  throw UsageError(std::string("cannot find ") + kPreloadLibraryName + " (looked at " + tried +
                   "); set HEAPSNAP_PRELOAD to its path");
}

std::filesystem::path current_executable() {
  std::error_code error;
  std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw UsageError("cannot find the heapsnap executable: /proc/self/exe: " + error.message());
  return executable;
}

}  // namespace heapsnap::cli
