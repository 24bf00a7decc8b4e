// _exit and _Exit as the preload library exports them: a program that ends through them (shells do,
// and children after fork) runs no destructor, so the exit snapshot is written here first. exit()
// reaches the kernel without passing through these (glibc calls its own _exit directly).

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "profiler/runtime.h"

namespace {

[[noreturn]] void end_process(int status) noexcept {
  heapsnap::write_snapshot_at_immediate_exit();
  for (;;) syscall(SYS_exit_group, status);  // what the C library's _exit does
}

}  // namespace

extern "C" [[gnu::visibility("default")]] void _exit(int status) { end_process(status); }
extern "C" [[gnu::visibility("default")]] void _Exit(int status) noexcept { end_process(status); }
