// A plugin that leaks, loaded and unloaded by dlclose_program.cpp.

#include <cstdlib>

extern "C" void* plugin_leak() {
  void* block = std::malloc(77);  // PLUGIN LEAK
  asm volatile("" : : "g"(block) : "memory");
  return block;
}
