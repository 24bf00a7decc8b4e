#include "runtime/module_visibility.h"

#include <dlfcn.h>

#include <atomic>

namespace heapsnap {
namespace {

using IteratePhdr = int (*)(int (*)(dl_phdr_info*, std::size_t, void*), void*);
using PhdrCallback = int (*)(dl_phdr_info*, std::size_t, void*);

// The C library's dl_iterate_phdr, found once; resolved at load time too, so that a first call from a
// signal handler (an unwinder) does not have to run dlsym there.
std::atomic<IteratePhdr> g_real_iterate{nullptr};

IteratePhdr real_iterate() {
  IteratePhdr real = g_real_iterate.load(std::memory_order_acquire);
  if (real == nullptr) {
    real = reinterpret_cast<IteratePhdr>(dlsym(RTLD_NEXT, "dl_iterate_phdr"));
    g_real_iterate.store(real, std::memory_order_release);
  }
  return real;
}

[[gnu::constructor]] void resolve_real_iterate() { real_iterate(); }

std::atomic<bool> g_interposed{false};

// The only module this thread's dl_iterate_phdr reports, or null: no filtering.
[[gnu::tls_model("initial-exec")]] thread_local const LoadedModule* t_visible_module = nullptr;

struct FilteredCall {
  PhdrCallback callback;
  void* data;
  const LoadedModule* visible;
};

int report_if_visible(dl_phdr_info* info, std::size_t size, void* data) {
  const auto* call = static_cast<const FilteredCall*>(data);
  const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (info->dlpi_addr != call->visible->load_bias || call->visible->name != name) return 0;
  return call->callback(info, size, call->data);
}

struct ContainingSearch {
  std::uintptr_t address;
  LoadedModule* found;
};

int find_containing(dl_phdr_info* info, std::size_t, void* data) {
  auto* search = static_cast<ContainingSearch*>(data);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD) continue;
    const std::uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    if (search->address >= start && search->address - start < segment.p_memsz) {
      search->found->load_bias = info->dlpi_addr;
      search->found->name = info->dlpi_name != nullptr ? info->dlpi_name : "";
      return 1;
    }
  }
  return 0;
}

}  // namespace

ModuleVisibility::ModuleVisibility(const LoadedModule& module) : previous_(t_visible_module) {
  t_visible_module = &module;
}

ModuleVisibility::~ModuleVisibility() { t_visible_module = previous_; }

void note_dl_iterate_phdr_interposed() noexcept { g_interposed.store(true, std::memory_order_release); }
bool module_visibility_works() noexcept { return g_interposed.load(std::memory_order_acquire); }

int iterate_visible_modules(int (*callback)(dl_phdr_info*, std::size_t, void*), void* data) {
  const LoadedModule* visible = t_visible_module;
  if (visible == nullptr) return real_iterate()(callback, data);
  FilteredCall call{callback, data, visible};
  return real_iterate()(report_if_visible, &call);
}

bool module_containing(std::uintptr_t address, LoadedModule& module) {
  ContainingSearch search{address, &module};
  return real_iterate()(find_containing, &search) != 0;
}

}  // namespace heapsnap

