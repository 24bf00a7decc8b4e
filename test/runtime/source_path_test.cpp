// Source paths as the symbolizer reports them, repaired where libbacktrace joined a directory to a
// path that was already absolute (DWARF 5, clang's default).

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "runtime/symbolizer.h"

TEST_CASE("a compilation directory joined to an absolute source path is dropped when the path exists") {
  const std::filesystem::path directory = std::filesystem::temp_directory_path() / "heapsnap-source-path-test";
  std::filesystem::create_directories(directory);
  const std::string source = (directory / "service.cpp").string();
  std::ofstream(source) << "int main() {}\n";
  CHECK(heapsnap::source_file_path(("/tmp/build-clang/" + source).c_str()) == source);
  CHECK(heapsnap::source_file_path(source.c_str()) == source);
  CHECK(heapsnap::source_file_path("samples/service.cpp") == "samples/service.cpp");
  // A doubled slash that is not that join (the rest does not exist, or the whole path does) stays.
  CHECK(heapsnap::source_file_path("/usr//no/such/file.h") == "/usr//no/such/file.h");
  const std::string doubled_but_real = directory.string() + "//service.cpp";
  CHECK(heapsnap::source_file_path(doubled_but_real.c_str()) == doubled_but_real);
  std::filesystem::remove_all(directory);
}
