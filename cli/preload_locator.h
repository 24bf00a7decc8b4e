#pragma once
// Finds libheapsnap_preload.so for `heapsnap run`, in this order:
//  1. $HEAPSNAP_PRELOAD, when set and not empty (an error if it names no file);
//  2. <directory of heapsnap>/../lib/libheapsnap_preload.so: the build tree (build/bin, build/lib);
//  3. <directory of heapsnap>/<bindir-to-libdir>/heapsnap/libheapsnap_preload.so, then
//     <directory of heapsnap>/<bindir-to-libdir>/libheapsnap_preload.so: the installed layout, the
//     relative path computed by CMake from the install directories (e.g. "../lib/x86_64-linux-gnu").

#include <filesystem>
#include <optional>
#include <string>

namespace heapsnap::cli {

inline constexpr const char* kPreloadLibraryName = "libheapsnap_preload.so";

// The library's absolute path. Throws UsageError naming every place looked at when there is none, or
// when its path cannot go into LD_PRELOAD (which splits at spaces and colons, with no escape).
std::filesystem::path locate_preload_library(const std::optional<std::string>& environment_override,
                                             const std::filesystem::path& heapsnap_executable);

// The running heapsnap binary, from /proc/self/exe.
std::filesystem::path current_executable();

}  // namespace heapsnap::cli
