// Loads a plugin, has it allocate a block that the program then loses, and unloads the plugin
// before exit: the leak's stack runs through code that is no longer mapped when the snapshot is taken.

#include <dlfcn.h>

#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (plugin == nullptr) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  auto leak = reinterpret_cast<void* (*)()>(dlsym(plugin, "plugin_leak"));
  volatile std::uintptr_t hidden = reinterpret_cast<std::uintptr_t>(leak()) ^ 0x5a5a5a5a;  // not a pointer
  std::printf("leaked through the plugin: %s\n", hidden != 0 ? "yes" : "no");
  hidden = 0;
  const int closed = dlclose(plugin);
  std::printf("plugin unloaded: %s\n", closed == 0 && dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD) == nullptr ? "yes" : "no");
  return 0;
}
