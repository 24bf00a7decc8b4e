#pragma once
// The roots of a leak analysis: every place outside the heap where the program may keep a pointer to
// a block. One named step per kind of root, as LeakSanitizer lists them, gathered while the world is
// stopped:
//   module globals     the writable segments of every loaded module (dl_iterate_phdr)
//   live stacks        each live thread's stack from its stack pointer up; glibc keeps a thread's
//                      descriptor and static TLS at the top of its stack, so they come with it
//   registers          each live thread's registers as the stop captured them
//   exited threads     the descriptors of exited threads whose stacks glibc keeps in its stack cache
//                      (they hold the dynamic-TLS table the loader allocated for the thread); not
//                      their stacks, which hold nothing but dead frames
//   anonymous memory   every other private anonymous mapping: custom pools and arenas, pymalloc's
//                      arenas, JIT heaps, the main thread's descriptor. Valgrind scans all of the
//                      client's memory the same way.
// Never roots: heapsnap's segments (the heap itself: a block is scanned only once it is reachable),
// heapsnap's own bookkeeping memory, and the dead part of every stack (below the stack pointer).

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "collector/memory_map.h"
#include "collector/referrer.h"

namespace heapsnap::collector {

struct RootRange {
  const void* begin;
  std::size_t bytes;
  heapsnap::Referrer::Kind kind;
  std::string where;
};

struct ThreadRegisters {
  std::vector<std::uintptr_t> values;
  std::string where;
};

// A live thread as the stop found it.
struct LiveThread {
  pid_t tid = 0;
  std::uintptr_t scan_from = 0;       // its stack is live from here up; 0: unknown (not stopped)
  std::uintptr_t thread_pointer = 0;  // its TLS base (fs on x86-64); 0 when unknown
  std::vector<std::uintptr_t> registers;
};

struct RootSet {
  std::vector<RootRange> ranges;
  std::vector<ThreadRegisters> registers;
  std::size_t exited_thread_descriptors = 0;  // found in glibc's stack cache
  std::size_t anonymous_bytes = 0;            // resident bytes of anonymous memory scanned
};

// The writable segments and the calling thread's static TLS of every loaded module. dl_iterate_phdr
// takes the loader's lock: call this before the world stops.
std::vector<RootRange> module_globals();

// Every root, given the module globals and the process's live threads. `all_threads_known`: every
// live thread is in `threads` with its stack pointer. When some are not (a thread that could not be
// stopped), memory that may be such a thread's stack is scanned whole rather than left out.
RootSet gather_roots(const MemoryMap& map, std::vector<RootRange> module_globals, const std::vector<LiveThread>& threads,
                     bool all_threads_known);

}  // namespace heapsnap::collector
