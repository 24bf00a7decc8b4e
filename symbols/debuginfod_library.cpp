#include "symbols/debuginfod_library.h"

#include <dlfcn.h>

namespace heapsnap {
namespace {

template <typename Function>
bool resolve(void* handle, const char* name, Function& out, std::string& problem) {
  out = reinterpret_cast<Function>(dlsym(handle, name));
  if (out == nullptr) problem = std::string("libdebuginfod has no ") + name;
  return out != nullptr;
}

DebuginfodLibrary load() {
  DebuginfodLibrary library;
  void* handle = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = dlerror();
    library.problem = std::string("cannot load libdebuginfod: ") + (error != nullptr ? error : "unknown error");
    return library;
  }
  std::string& problem = library.problem;
  const bool complete = resolve(handle, "debuginfod_begin", library.begin, problem) &&
                        resolve(handle, "debuginfod_end", library.end, problem) &&
                        resolve(handle, "debuginfod_set_user_data", library.set_user_data, problem) &&
                        resolve(handle, "debuginfod_get_user_data", library.get_user_data, problem) &&
                        resolve(handle, "debuginfod_set_progressfn", library.set_progressfn, problem) &&
                        resolve(handle, "debuginfod_find_debuginfo", library.find_debuginfo, problem);
  if (!complete) library = DebuginfodLibrary{.problem = problem};
  return library;
}

}  // namespace

const DebuginfodLibrary& debuginfod_library() {
  static const DebuginfodLibrary library = load();
  return library;
}

}  // namespace heapsnap
