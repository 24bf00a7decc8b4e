#pragma once
// Which loaded modules libbacktrace sees. libbacktrace reads the debug information of every module
// dl_iterate_phdr reports, all at once, on its first lookup: with Debian's libc6-dbg installed that
// alone is about 16 MiB and 0.2 s, spent even when no stack goes through libc. heapsnap interposes
// dl_iterate_phdr so that, while a ModuleVisibility is alive on a thread, that thread's calls report
// only one module; the symbolizer builds one libbacktrace state per module that way, lazily, for the
// modules its stacks actually go through. Calls on other threads, and calls on this thread outside the
// scope, are passed through unchanged.

#include <link.h>

#include <cstdint>
#include <string>

namespace heapsnap {

// A loaded module as dl_iterate_phdr describes it: the main program has an empty name.
struct LoadedModule {
  std::uintptr_t load_bias = 0;  // dlpi_addr: add to a segment's p_vaddr for its run-time address
  std::string name;              // dlpi_name: the path the loader opened, or "" for the main program
};

class ModuleVisibility {
 public:
  // Until destroyed, dl_iterate_phdr on this thread reports `module` and nothing else.
  explicit ModuleVisibility(const LoadedModule& module);
  ~ModuleVisibility();
  ModuleVisibility(const ModuleVisibility&) = delete;
  ModuleVisibility& operator=(const ModuleVisibility&) = delete;

 private:
  const LoadedModule* previous_;
};

// Whether heapsnap's dl_iterate_phdr is the one in use, so that a ModuleVisibility has an effect: true in
// the preload library (module_visibility_export.cpp says so at load time), false in programs that link
// heapsnap's static libraries, where libbacktrace sees every module.
bool module_visibility_works() noexcept;
void note_dl_iterate_phdr_interposed() noexcept;

// dl_iterate_phdr as this thread may see it now; what heapsnap's dl_iterate_phdr calls.
int iterate_visible_modules(int (*callback)(dl_phdr_info*, std::size_t, void*), void* data);

// The module whose loaded segments contain `address`; false when none does (JIT code, the vDSO
// reports no file). Never filtered.
bool module_containing(std::uintptr_t address, LoadedModule& module);

}  // namespace heapsnap
