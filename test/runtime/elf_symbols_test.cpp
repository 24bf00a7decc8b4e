// carries_own_symbols: which modules the symbolizer gives to libbacktrace; DynamicSymbols: how the
// others are named.

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/elf_symbols.h"

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

TEST_CASE("libc's dynamic symbols name its exported functions as the loader resolves them") {
  const auto symbols = heapsnap::DynamicSymbols::of_file("/lib/x86_64-linux-gnu/libc.so.6");
  REQUIRE(symbols.size() > 1000);
  Dl_info libc{};
  REQUIRE(dladdr(reinterpret_cast<void*>(&::rand), &libc) != 0);
  const auto base = reinterpret_cast<std::uintptr_t>(libc.dli_fbase);
  // Functions no sanitizer intercepts: the addresses are libc's own in every build.
  for (void* function : {reinterpret_cast<void*>(&::rand), reinterpret_cast<void*>(&::div),
                         reinterpret_cast<void*>(&::getpid), reinterpret_cast<void*>(&::sysconf)}) {
    Dl_info owner{};
    REQUIRE(dladdr(function, &owner) != 0);
    REQUIRE(owner.dli_fbase == libc.dli_fbase);
    const auto address = reinterpret_cast<std::uintptr_t>(function);
    for (const std::uintptr_t inside : {address, address + 1}) {  // the entry, and inside the function
      const char* name = symbols.name_at(inside - base);
      REQUIRE(name != nullptr);
      INFO(name);
      CHECK(dlsym(RTLD_DEFAULT, name) == function);  // the name, or an alias of it, at that very address
    }
  }
  CHECK(symbols.name_at(0) == nullptr);
}

TEST_CASE("files without a dynamic symbol table have no dynamic symbols") {
  CHECK(heapsnap::DynamicSymbols::of_file("/nonexistent/heapsnap/file").size() == 0);
  const std::string text = temp_file("dynsym-text", {'h', 'e', 'l', 'l', 'o'});
  CHECK(heapsnap::DynamicSymbols::of_file(text.c_str()).size() == 0);
  std::remove(text.c_str());
}
