// carries_own_symbols: which modules the symbolizer gives to libbacktrace.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "profiler/elf_symbols.h"

namespace {

std::string temp_file(const std::string& stem, const std::vector<char>& contents) {
  const std::string path = "/tmp/heapsnap-elf-" + std::to_string(getpid()) + "-" + stem;
  std::ofstream(path, std::ios::binary).write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

std::vector<char> head_of(const char* path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> data(bytes);
  in.read(data.data(), static_cast<std::streamsize>(bytes));
  data.resize(static_cast<std::size_t>(in.gcount()));
  return data;
}

}  // namespace

TEST_CASE("a program built by this project carries its own symbols") {
  CHECK(heapsnap::carries_own_symbols("/proc/self/exe"));
}

TEST_CASE("Debian's stripped libc does not") {
  CHECK_FALSE(heapsnap::carries_own_symbols("/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST_CASE("missing, non-ELF and truncated files are treated as having no symbols") {
  CHECK_FALSE(heapsnap::carries_own_symbols("/nonexistent/heapsnap/file"));
  CHECK_FALSE(heapsnap::carries_own_symbols("/proc/self"));  // a directory

  const std::string text = temp_file("text", {'h', 'e', 'l', 'l', 'o'});
  CHECK_FALSE(heapsnap::carries_own_symbols(text.c_str()));
  // The ELF header of this very program, without the section headers it points to.
  const std::string truncated = temp_file("truncated", head_of("/proc/self/exe", 64));
  CHECK_FALSE(heapsnap::carries_own_symbols(truncated.c_str()));
  std::remove(text.c_str());
  std::remove(truncated.c_str());
}
