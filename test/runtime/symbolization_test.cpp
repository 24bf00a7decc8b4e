// Symbolization in the preload library: per-module, lazy, and through the dynamic symbol table for
// stripped system libraries (runtime/symbolizer.h). Linked into api_test, so heapsnap's
// dl_iterate_phdr is the one in use, as under `heapsnap run`.

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <cstring>
#include <cstdlib>

#include "preload/api.h"

namespace {

// Mappings of files whose path contains `name`, as /proc/self/maps lists them.
int mappings_of(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) count += line.find(name) != std::string::npos;
  return count;
}

}  // namespace

TEST_CASE("a stack through a stripped libc names the libc function and then the program's line") {
  heapsnap::stop();
  heapsnap::start(8);
  const std::uint32_t line = __LINE__ + 1;
  char* copy = strdup("symbolize me");
  const auto traceback = heapsnap::get_object_traceback(copy);
  std::free(copy);
  heapsnap::stop();

  REQUIRE(traceback.has_value());
  REQUIRE(traceback->frames.size() >= 2);
  const heapsnap::Frame& in_libc = traceback->frames[0];
  // From libc's dynamic symbols (Debian's libc has no .symtab), which export it as strdup and __strdup.
  CHECK((in_libc.function == "strdup" || in_libc.function == "__strdup"));
  CHECK(in_libc.module.find("libc.so") != std::string::npos);
  CHECK(in_libc.lineno == 0);
  const heapsnap::Frame& caller = traceback->frames[1];
  CHECK(caller.lineno == line);
  CHECK(caller.filename.find("symbolization_test.cpp") != std::string::npos);
}

TEST_CASE("symbolizing reads no module that the stacks do not go through") {
  // The preload library carries its own DWARF; no traced stack goes through it (its frames are never
  // captured), so libbacktrace must not map it for reading. When every module was read, it was.
  const int before = mappings_of("libheapsnap_preload.so");
  REQUIRE(before > 0);
  heapsnap::stop();
  heapsnap::start(8);
  void* block = std::malloc(77);
  asm volatile("" : : "g"(block) : "memory");  // keep the compiler from eliding the pair
  const heapsnap::Snapshot snapshot = heapsnap::take_snapshot();
  std::free(block);
  heapsnap::stop();
  CHECK_FALSE(snapshot.traces.empty());
  CHECK(mappings_of("libheapsnap_preload.so") == before);
}
