// C functions whose names are one letter, as in small C programs and tests: `f`, `i` and `d` are
// also the mangling codes of float, int and double, and must still show as themselves. Each leaks a
// block of its own size; one C++ function beside them must still show demangled.

#include <cstdio>
#include <cstdlib>

// Each allocates in its own frame: the empty asm after the call keeps it from being a tail call that
// would leave the function off the stack.
extern "C" {
[[gnu::noinline]] void* f() {
  void* block = std::malloc(101);
  asm volatile("" : : "g"(block) : "memory");
  return block;
}
[[gnu::noinline]] void* i() {
  void* block = std::malloc(102);
  asm volatile("" : : "g"(block) : "memory");
  return block;
}
[[gnu::noinline]] void* d() {
  void* block = std::malloc(103);
  asm volatile("" : : "g"(block) : "memory");
  return block;
}
}

namespace names {
[[gnu::noinline]] void* make_record(int size) {
  void* block = std::malloc(static_cast<std::size_t>(size));
  asm volatile("" : : "g"(block) : "memory");
  return block;
}
}  // namespace names

int main() {
  void* volatile kept[] = {f(), i(), d(), names::make_record(104)};
  for (void* block : kept) std::printf("%s\n", block != nullptr ? "allocated" : "failed");
  return 0;  // the blocks leak at exit
}
