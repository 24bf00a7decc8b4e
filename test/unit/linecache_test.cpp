// LineCache: source lines as Python's linecache.getline() returns them (expected values checked
// against CPython 3.11's linecache on the same bytes).

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "snapshot/linecache.h"
#include "test/support/temp_directory.h"

using namespace heapsnap;
using namespace heapsnap::test;
using Lines = std::vector<std::string>;

TEST_CASE("source lines split on universal newlines and always end in a newline", "[linecache]") {
  CHECK(split_source_lines("") == Lines{});
  CHECK(split_source_lines("a\nb") == Lines{"a\n", "b\n"});
  CHECK(split_source_lines("a\r\nb\rc\n\n") == Lines{"a\n", "b\n", "c\n", "\n"});
  CHECK(split_source_lines("a\x0b" "b\x0c" "c\n") == Lines{"a\x0b" "b\x0c" "c\n"});  // not line breaks for readlines
}

TEST_CASE("source decoding follows tokenize.open", "[linecache]") {
  CHECK(split_source_lines("\xEF\xBB\xBFx = 1\n") == Lines{"x = 1\n"});  // BOM dropped
  CHECK(split_source_lines("x = '\xff'\n").empty());                     // not UTF-8: no lines at all
  CHECK(split_source_lines("# -*- coding: latin-1 -*-\nx = '\xe9'\n") ==
        Lines{"# -*- coding: latin-1 -*-\n", "x = '\xC3\xA9'\n"});
  CHECK(split_source_lines("#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-1 :\n\xe9\n").size() == 3);
  // A cookie on line 2 counts only after a blank or comment line 1.
  CHECK(split_source_lines("x = 1\n# coding: latin-1\n\xe9\n").empty());
  CHECK(split_source_lines("# coding: ascii\nx = 1\n").size() == 2);
  CHECK(split_source_lines("# coding: ascii\n\xc3\xa9\n").empty());
  CHECK(split_source_lines("\xEF\xBB\xBF# coding: latin-1\nx\n").empty());  // BOM with another cookie
  CHECK(split_source_lines("# coding: no-such-codec\nx\n").empty());
}

TEST_CASE("strip removes Python's whitespace, Unicode included", "[linecache]") {
  CHECK(strip_whitespace("  \t x = 1 \n") == "x = 1");
  CHECK(strip_whitespace("\xC2\xA0\xE3\x80\x80x\x1f\x0b") == "x");  // NBSP, ideographic space, \x1f, \v
  CHECK(strip_whitespace("\xE2\x80\x8Bx") == "\xE2\x80\x8Bx");       // zero-width space is not whitespace
  CHECK(strip_whitespace(" \n ").empty());
}

TEST_CASE("getline reads files, relative names along the search path", "[linecache]") {
  const TempDirectory directory;
  write_text_file(directory / "m.cpp", "int a;\n  int b;  \n");
  LineCache lines;
  const std::string path = (directory / "m.cpp").string();
  CHECK(lines.getline(path, 2) == "  int b;  \n");
  CHECK(lines.getline(path, 0).empty());
  CHECK(lines.getline(path, 3).empty());
  CHECK(lines.getline("<unknown>", 1).empty());
  CHECK(lines.getline(directory.path().string(), 1).empty());  // a directory
  CHECK(lines.getline("/dev/zero", 1).empty());                 // endless: not read at all
  REQUIRE(::mkfifo((directory / "fifo").c_str(), 0600) == 0);
  CHECK(lines.getline((directory / "fifo").string(), 1).empty());  // would block until a writer came
  CHECK(lines.getline("m.cpp", 1).empty());                     // relative, no search path

  LineCache searching({directory / "nowhere", directory.path()});
  CHECK(searching.getline("m.cpp", 1) == "int a;\n");

  // Files are read once, like linecache until checkcache().
  write_text_file(directory / "m.cpp", "changed\n");
  CHECK(lines.getline(path, 1) == "int a;\n");
  lines.clear();
  CHECK(lines.getline(path, 1) == "changed\n");
}
