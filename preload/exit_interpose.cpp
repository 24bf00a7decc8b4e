// How the program ends, as the preload library sees it:
//   exit            records where the calling thread's live stack begins (runtime/exit_frame.h), then
//                   runs the C library's exit; the exit snapshot is written later, from _dl_fini.
//   main returning  the same record, made by a wrapper around main (__libc_start_main): the C library
//                   calls its own exit then, which cannot be interposed.
//   _exit, _Exit    run no destructor, so the exit snapshot is written here first. A program ending
//                   through them: shells, and children after fork. exit() reaches the kernel without
//                   passing through these (glibc calls its own _exit directly).

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "preload/runtime.h"
#include "runtime/exit_frame.h"

namespace {

using ExitFunction = void (*)(int);
using MainFunction = int (*)(int, char**, char**);
using StartMainFunction = int (*)(MainFunction, int, char**, void (*)(), void (*)(), void (*)(), void*);

ExitFunction g_libc_exit = nullptr;
MainFunction g_program_main = nullptr;

[[gnu::constructor]] void find_libc_exit() noexcept { g_libc_exit = reinterpret_cast<ExitFunction>(dlsym(RTLD_NEXT, "exit")); }

heapsnap::ExitFrame frame_of_caller(const std::uintptr_t* callee_saved, std::uintptr_t caller_stack_pointer) noexcept {
  heapsnap::ExitFrame frame;
  frame.stack_from = caller_stack_pointer;
  if (callee_saved != nullptr) {
    frame.has_registers = true;
    for (int i = 0; i < 6; ++i) frame.callee_saved[i] = callee_saved[i];
  }
  return frame;
}

[[noreturn]] void end_process(int status) noexcept {
  heapsnap::write_snapshot_at_immediate_exit();
  for (;;) syscall(SYS_exit_group, status);  // what the C library's _exit does
}

// Runs main, then records its caller's stack pointer: main's frames are dead from here on, and exit's
// are laid over them. In the section whose frames snapshots leave out (snapshot_builder.cpp).
[[gnu::noinline, gnu::section("heapsnap_hidden_frames")]] int run_program_main(int argc, char** argv, char** envp) {
  const int status = g_program_main(argc, argv, envp);
#if defined(__x86_64__)
  // This function's CFA: the caller's stack pointer at the call. Not __builtin_frame_address, which
  // would make GCC keep a frame pointer here, and the cached unwinder sends every stack through such
  // a frame to the DWARF unwinder (churn ran 29x its time instead of 2.4x).
  heapsnap::record_exit_frame(frame_of_caller(nullptr, reinterpret_cast<std::uintptr_t>(__builtin_dwarf_cfa())));
#endif
  return status;
}

}  // namespace

// Continuations of the assembly entry points below, with the caller's callee-saved registers and
// stack pointer as they were at the call.
extern "C" [[noreturn, gnu::used, gnu::visibility("hidden")]] void heapsnap_exit_continue(
    int status, const std::uintptr_t* callee_saved, std::uintptr_t caller_stack_pointer) noexcept {
  heapsnap::record_exit_frame(frame_of_caller(callee_saved, caller_stack_pointer));
  if (g_libc_exit == nullptr) find_libc_exit();
  g_libc_exit(status);
  __builtin_unreachable();
}

extern "C" [[noreturn, gnu::used, gnu::visibility("hidden")]] void heapsnap_immediate_exit_continue(
    int status, const std::uintptr_t* callee_saved, std::uintptr_t caller_stack_pointer) noexcept {
  heapsnap::record_exit_frame(frame_of_caller(callee_saved, caller_stack_pointer));
  end_process(status);
}

#if defined(__x86_64__)
// exit, _exit and _Exit in assembly: compiled code may reuse the callee-saved registers (which can
// hold the caller's only pointer to a block) before a C++ statement could read them. Each saves rbx,
// rbp, r12-r15, passes them and the caller's stack pointer (just above the return address) on, and
// never returns. 56 bytes keep the stack 16-byte aligned for the call.
#define HEAPSNAP_EXIT_ENTRY(name, continuation) \
  asm(".text\n"                                 \
      ".globl " #name "\n"                      \
      ".type " #name ", @function\n"            \
      ".p2align 4\n" #name ":\n"                \
      ".cfi_startproc\n"                        \
      "subq $56, %rsp\n"                        \
      ".cfi_def_cfa_offset 64\n"                \
      "movq %rbx, 0(%rsp)\n"                    \
      "movq %rbp, 8(%rsp)\n"                    \
      "movq %r12, 16(%rsp)\n"                   \
      "movq %r13, 24(%rsp)\n"                   \
      "movq %r14, 32(%rsp)\n"                   \
      "movq %r15, 40(%rsp)\n"                   \
      "movq %rsp, %rsi\n"                       \
      "leaq 64(%rsp), %rdx\n"                   \
      "call " #continuation "\n"                \
      "ud2\n"                                   \
      ".cfi_endproc\n"                          \
      ".size " #name ", .-" #name "\n")

HEAPSNAP_EXIT_ENTRY(exit, heapsnap_exit_continue);
HEAPSNAP_EXIT_ENTRY(_exit, heapsnap_immediate_exit_continue);
HEAPSNAP_EXIT_ENTRY(_Exit, heapsnap_immediate_exit_continue);
#else
extern "C" [[gnu::visibility("default")]] void exit(int status) {
  heapsnap_exit_continue(status, nullptr, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
}
extern "C" [[gnu::visibility("default")]] void _exit(int status) {
  heapsnap_immediate_exit_continue(status, nullptr, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
}
extern "C" [[gnu::visibility("default")]] void _Exit(int status) noexcept {
  heapsnap_immediate_exit_continue(status, nullptr, reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)));
}
#endif

// The C runtime's start (crt1.o's _start calls it): main runs inside run_program_main.
extern "C" [[gnu::visibility("default")]] int __libc_start_main(MainFunction main, int argc, char** argv, void (*init)(),
                                                                void (*fini)(), void (*rtld_fini)(), void* stack_end) {
  const auto libc_start_main = reinterpret_cast<StartMainFunction>(dlsym(RTLD_NEXT, "__libc_start_main"));
  g_program_main = main;
  return libc_start_main(run_program_main, argc, argv, init, fini, rtld_fini, stack_end);
}
