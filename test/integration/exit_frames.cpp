// Where the exiting thread's live stack begins: the leak verdict at exit must not depend on what dead
// frames below it still hold. Every mode first leaks one 40-byte block whose last pointer sat in a
// frame that has returned (found by LeakSanitizer too). Then:
//   return     main returns; `held` (8 bytes) lay in main's frame, dead now: leaked too
//   exit       exit(3) from a callee of main; main's frame, and `held` in it, are live: reachable
//   _exit      the same through _exit(4)
//   register   exit(5) while the only pointer to `held` is in rbx, a callee-saved register: reachable
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

constexpr std::uintptr_t kDisguise = 0x5a5a5a5a5aULL;

[[gnu::noinline]] void* make_forty() { return std::malloc(40); }  // exit_frames: dead frame leak

[[gnu::noinline]] void leak_in_a_returned_frame() {
  void* volatile last_pointer = make_forty();
  (void)last_pointer;
}

[[gnu::noinline]] void finish(const char* how) {
  if (std::strcmp(how, "exit") == 0) std::exit(3);
  _exit(4);
}

[[gnu::noinline]] std::uintptr_t make_held_disguised() { return reinterpret_cast<std::uintptr_t>(std::malloc(8)) ^ kDisguise; }

#if defined(__x86_64__)
// The block's address is made in rbx right before the call: no copy of it anywhere else. Never
// returns, so the red zone the alignment may step over is not needed any more.
[[noreturn]] void exit_with_pointer_in_rbx(std::uintptr_t disguised) {
  asm volatile(
      "movq %0, %%rbx\n"
      "xorq %1, %%rbx\n"
      "movl $5, %%edi\n"
      "andq $-16, %%rsp\n"  // the compiler may see a leaf here: align the stack for the call
      "call exit@PLT\n" ::"r"(disguised),
      "r"(kDisguise)
      : "rbx", "rdi", "memory");
  __builtin_unreachable();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "return";
  leak_in_a_returned_frame();
#if defined(__x86_64__)
  if (std::strcmp(mode, "register") == 0) exit_with_pointer_in_rbx(make_held_disguised());
#endif
  void* volatile held = std::malloc(8);  // exit_frames: held by main
  if (std::strcmp(mode, "return") != 0) finish(mode);
  (void)held;
  return 0;
}
