// dlclose as the preload library exports it: before a library can be unmapped, the frames recorded
// in it are symbolized and kept (snapshot_builder.h: symbolize_frames_in), so that a leak allocated
// by a plugin the program has since unloaded still names the plugin's function and line.

#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "runtime/module_visibility.h"
#include "runtime/snapshot_builder.h"
#include "runtime/tracing.h"

namespace {

using Dlclose = int (*)(void*);
std::atomic<Dlclose> g_real_dlclose{nullptr};

struct ModuleRange {
  const link_map* library;
  std::uintptr_t begin = UINTPTR_MAX;
  std::uintptr_t end = 0;
};

int find_range(dl_phdr_info* info, std::size_t, void* data) {
  auto* range = static_cast<ModuleRange*>(data);
  const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  const char* wanted = range->library->l_name != nullptr ? range->library->l_name : "";
  if (info->dlpi_addr != range->library->l_addr || std::string_view(name) != wanted) return 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
    range->begin = std::min<std::uintptr_t>(range->begin, info->dlpi_addr + segment.p_vaddr);
    range->end = std::max<std::uintptr_t>(range->end, info->dlpi_addr + segment.p_vaddr + segment.p_memsz);
  }
  return 1;
}

}  // namespace

extern "C" [[gnu::visibility("default")]] int dlclose(void* handle) noexcept {
  Dlclose real = g_real_dlclose.load(std::memory_order_acquire);
  if (real == nullptr) {
    real = reinterpret_cast<Dlclose>(dlsym(RTLD_NEXT, "dlclose"));
    g_real_dlclose.store(real, std::memory_order_release);
  }
  link_map* library = nullptr;
  if (heapsnap::tracing::g_enabled.load(std::memory_order_relaxed) &&
      dlinfo(handle, RTLD_DI_LINKMAP, &library) == 0 && library != nullptr) {
    ModuleRange range{library};
    heapsnap::iterate_visible_modules(find_range, &range);
    if (range.begin < range.end) heapsnap::symbolize_frames_in(range.begin, range.end);
  }
  return real(handle);
}
