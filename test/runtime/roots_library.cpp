// A library the collector test dlopens: a block held only by its global, or only by its thread_local,
// must count as reachable.
#include <cstdlib>

namespace {
void* g_held_by_global = nullptr;
thread_local void* t_held_by_tls = nullptr;
}  // namespace

extern "C" [[gnu::visibility("default")]] void* roots_library_hold_in_global(std::size_t size) {
  return g_held_by_global = std::malloc(size);
}
extern "C" [[gnu::visibility("default")]] void* roots_library_hold_in_tls(std::size_t size) {
  return t_held_by_tls = std::malloc(size);
}
extern "C" [[gnu::visibility("default")]] void roots_library_release() {
  std::free(g_held_by_global);
  std::free(t_held_by_tls);
  g_held_by_global = t_held_by_tls = nullptr;
}
