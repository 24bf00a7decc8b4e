// Suppression files: globs, the parser on good files, and every error with its exact position.

#include <catch2/catch.hpp>

#include <string>

#include "snapshot/glob_pattern.h"
#include "snapshot/suppressions.h"
#include "test/support/temp_directory.h"

using namespace heapsnap;

namespace {

GlobPattern glob_of(const std::string& line) {
  SuppressionList list;
  parse_suppressions("leak:" + line, "test.supp", list);
  REQUIRE(list.rules.size() == 1);
  return list.rules[0].glob;
}

// The error parsing `text` raises, as "line:column: reason".
std::string error_of(const std::string& text) {
  SuppressionList list;
  try {
    parse_suppressions(text, "bad.supp", list);
  } catch (const SuppressionError& error) {
    CHECK(error.file() == "bad.supp");
    CHECK(std::string(error.what()) == "bad.supp: line " + std::to_string(error.line()) + ", column " +
                                           std::to_string(error.column()) + ": " + error.reason());
    return std::to_string(error.line()) + ":" + std::to_string(error.column()) + ": " + error.reason();
  }
  return "no error";
}

}  // namespace

TEST_CASE("globs: * any run, ? one character, the whole subject, case-sensitive", "[suppressions]") {
  CHECK(glob_of("make_buffer").matches("make_buffer"));
  CHECK_FALSE(glob_of("make_buffer").matches("make_buffer2"));
  CHECK_FALSE(glob_of("make_buffer").matches("xmake_buffer"));
  CHECK_FALSE(glob_of("make_buffer").matches("Make_buffer"));
  CHECK(glob_of("make_*").matches("make_"));
  CHECK(glob_of("make_*").matches("make_buffer(int)"));
  CHECK(glob_of("*::push_back*").matches("std::vector<int, std::allocator<int> >::push_back(int const&)"));
  CHECK_FALSE(glob_of("*::push_back*").matches("push_back"));
  CHECK(glob_of("a*b*c").matches("abc"));
  CHECK(glob_of("a*b*c").matches("aXbYbZc"));
  CHECK_FALSE(glob_of("a*b*c").matches("aXbYcZ"));
  CHECK(glob_of("*a*a*a*b").matches("aaaaaaaaaaaaaaaaaaab"));
  CHECK_FALSE(glob_of("*a*a*a*b").matches("aaaaaaaaaaaaaaaaaaaa"));
  CHECK(glob_of("f?o").matches("foo"));
  CHECK(glob_of("f?o").matches("f\xC3\xA9o"));   // é: one character, two bytes
  CHECK_FALSE(glob_of("f?o").matches("fo"));
  CHECK_FALSE(glob_of("f?o").matches("fooo"));
  CHECK(glob_of("f?o").matches("f\xFFo"));       // an invalid byte is one character
  CHECK(glob_of("*\xC3\xA9").matches("caf\xC3\xA9"));
  CHECK(glob_of("**x").matches("x"));
  CHECK(glob_of("*").matches(""));
  CHECK_FALSE(glob_of("?").matches(""));
  // Escaped wildcards are literals.
  CHECK(glob_of("operator\\*").matches("operator*"));
  CHECK_FALSE(glob_of("operator\\*").matches("operator+"));
  CHECK(glob_of("what\\?").matches("what?"));
  CHECK_FALSE(glob_of("what\\?").matches("whatX"));
  CHECK(glob_of("a\\\\b").matches("a\\b"));
  CHECK(glob_of("C\\#").matches("C#"));
}

TEST_CASE("a suppression file: kinds, comments, blank lines, version, CRLF, a byte-order mark", "[suppressions]") {
  const std::string text =
      "\xEF\xBB\xBF"
      "# Known leaks of the app: each one has an issue.\n"
      "\n"
      "version: 1   # optional, first\n"
      "leak:make_buffer\n"
      "   direct:leaky.cpp:23  # trailing comment\r\n"
      "\tindirect:  Node::Node*\t\n"
      "cycle:*/vendor/graph/*\n"
      "leak:C#  \n"                  // a '#' that does not follow a blank is part of the pattern
      "leak:(anonymous namespace)::helper\n"
      "  # indented comment\n"
      "leak:operator new\\*";        // no line break at the end
  SuppressionList list;
  parse_suppressions(text, "app.supp", list);
  REQUIRE(list.files == std::vector<std::string>{"app.supp"});
  REQUIRE(list.rules.size() == 7);
  const auto rule = [&](std::size_t i) { return std::tuple(list.rules[i].line, suppression_kind_name(list.rules[i].kind), list.rules[i].pattern); };
  CHECK(rule(0) == std::tuple(std::size_t{4}, "leak", "make_buffer"));
  CHECK(rule(1) == std::tuple(std::size_t{5}, "direct", "leaky.cpp:23"));
  CHECK(rule(2) == std::tuple(std::size_t{6}, "indirect", "Node::Node*"));
  CHECK(rule(3) == std::tuple(std::size_t{7}, "cycle", "*/vendor/graph/*"));
  CHECK(rule(4) == std::tuple(std::size_t{8}, "leak", "C#"));
  CHECK(rule(5) == std::tuple(std::size_t{9}, "leak", "(anonymous namespace)::helper"));
  CHECK(rule(6) == std::tuple(std::size_t{11}, "leak", "operator new\\*"));
  CHECK(list.rules[6].glob.matches("operator new*"));
  CHECK(list.rules[4].glob.matches("C#"));
  for (const SuppressionRule& each : list.rules) CHECK(each.file == "app.supp");

  // Files append in order; an empty file or one of comments only has no rules and is fine.
  parse_suppressions("", "empty.supp", list);
  parse_suppressions("# nothing yet\n\n   \n", "comments.supp", list);
  parse_suppressions("leak:more\n", "more.supp", list);
  CHECK(list.files == std::vector<std::string>{"app.supp", "empty.supp", "comments.supp", "more.supp"});
  REQUIRE(list.rules.size() == 8);
  CHECK(list.rules[7].file == "more.supp");
  CHECK(list.rules[7].line == 1);
}

TEST_CASE("suppression file errors name the line and column (bytes, 1-based)", "[suppressions]") {
  CHECK(error_of("lek:foo") == "1:1: unknown rule kind \"lek\" (expected leak, direct, indirect or cycle)");
  CHECK(error_of("# fine\n  Leak:foo") == "2:3: unknown rule kind \"Leak\" (expected leak, direct, indirect or cycle)");
  CHECK(error_of("leak :foo") == "1:1: unknown rule kind \"leak \" (expected leak, direct, indirect or cycle)");
  CHECK(error_of("suppress:" + std::string(60, 'x')) == "1:1: unknown rule kind \"suppress\" (expected leak, direct, indirect or cycle)");
  CHECK(error_of(std::string(50, 'k') + ":x") == "1:1: unknown rule kind \"" + std::string(40, 'k') + "...\" (expected leak, direct, indirect or cycle)");
  CHECK(error_of("leak:a\n:foo") == "2:1: missing rule kind before ':' (leak, direct, indirect or cycle)");
  CHECK(error_of("make_buffer") == "1:1: expected KIND:PATTERN, such as leak:make_buffer");
  CHECK(error_of("leak:") == "1:6: empty pattern after 'leak:'");
  CHECK(error_of("leak:a\ncycle:   ") == "2:7: empty pattern after 'cycle:'");
  CHECK(error_of("direct: # forgot it") == "1:8: empty pattern after 'direct:'");
  CHECK(error_of("leak:a\\b") == "1:7: unknown escape \"\\b\" (a backslash escapes only *, ?, # and \\)");
  CHECK(error_of("leak:a\\\xC3\xA9") == "1:7: unknown escape \"\\\xC3\xA9\" (a backslash escapes only *, ?, # and \\)");
  CHECK(error_of("leak:ab\\") == "1:8: a backslash at the end of a pattern escapes nothing (write \\\\ for a backslash)");
  CHECK(error_of("leak:ab\\  # comment") == "1:8: a backslash at the end of a pattern escapes nothing (write \\\\ for a backslash)");
  CHECK(error_of("version: 2\nleak:a") == "1:10: unsupported version \"2\" (this heapsnap reads version 1)");
  CHECK(error_of("version: 1.0") == "1:10: unsupported version \"1.0\" (this heapsnap reads version 1)");
  CHECK(error_of("version:") == "1:9: missing version number after 'version:'");
  CHECK(error_of("leak:a\nversion: 1") == "2:1: version: must come first, before any rule");
  CHECK(error_of("version: 1\nversion: 1") == "2:1: version: must come first, before any rule");
  // Characters: UTF-8 only, no control characters but tabs, anywhere (comments included).
  CHECK(error_of("leak:caf\xC3") == "1:9: not valid UTF-8");                   // truncated sequence
  CHECK(error_of("leak:ok\n# \xC0\xAF overlong") == "2:3: not valid UTF-8");  // overlong '/'
  CHECK(error_of("leak:\xED\xA0\x80") == "1:6: not valid UTF-8");             // a surrogate
  CHECK(error_of("leak:\xF4\x90\x80\x80") == "1:6: not valid UTF-8");         // above U+10FFFF
  CHECK(error_of("leak:\xFF") == "1:6: not valid UTF-8");
  CHECK(error_of(std::string("leak:a\0b", 8)) == "1:7: control character U+0000");
  CHECK(error_of("leak:a\x1b[31m") == "1:7: control character U+001B");
  CHECK(error_of("leak:a\x7f") == "1:7: control character U+007F");
  CHECK(error_of("leak:a\rb") == "1:7: control character U+000D");          // a lone CR is not a line break
  // A character before the error counts as its bytes.
  CHECK(error_of("leak:\xC3\xA9\x01") == "1:8: control character U+0001");
}

TEST_CASE("suppression files are bounded: line length, number of rules, file size", "[suppressions]") {
  const std::string longest = "leak:" + std::string(kMaxSuppressionLineBytes - 5, 'x');
  SuppressionList list;
  parse_suppressions(longest + "\r\n", "ok.supp", list);  // the CR is not counted
  CHECK(list.rules.at(0).pattern.size() == kMaxSuppressionLineBytes - 5);
  CHECK(error_of("leak:a\n" + longest + "y") == "2:4097: line longer than 4096 bytes");
  CHECK(error_of("# " + std::string(5000, 'c')) == "1:4097: line longer than 4096 bytes");

  std::string many;
  for (std::size_t i = 0; i < kMaxSuppressionRules; ++i) many += "leak:f" + std::to_string(i) + "\n";
  SuppressionList full;
  parse_suppressions(many, "many.supp", full);
  CHECK(full.rules.size() == kMaxSuppressionRules);
  CHECK(error_of(many + "# comments do not count\n\nleak:one_more") ==
        std::to_string(kMaxSuppressionRules + 3) + ":1: more than 10000 rules");
  // The limit is over all files of a list.
  try {
    parse_suppressions("\n  leak:next", "next.supp", full);
    FAIL("no error");
  } catch (const SuppressionError& error) {
    CHECK(std::string(error.what()) == "next.supp: line 2, column 3: more than 10000 rules");
  }

  try {
    SuppressionList huge;
    parse_suppressions(std::string(kMaxSuppressionFileBytes + 1, '\n'), "huge.supp", huge);
    FAIL("no error");
  } catch (const SuppressionError& error) {
    CHECK(std::string(error.what()) == "huge.supp: larger than 8 MiB");
    CHECK(error.line() == 0);
  }
}

TEST_CASE("suppression files are read from disk; a missing one is an error", "[suppressions]") {
  heapsnap::test::TempDirectory directory;
  const std::string first = (directory / "first.supp").string();
  const std::string second = (directory / "second.supp").string();
  heapsnap::test::write_text_file(first, "leak:a\n");
  heapsnap::test::write_text_file(second, "# b\ncycle:b\n");
  const SuppressionList list = load_suppressions({first, second});
  CHECK(list.files == std::vector<std::string>{first, second});
  REQUIRE(list.rules.size() == 2);
  CHECK(list.rules[1].file == second);
  CHECK(list.rules[1].line == 2);
  CHECK(load_suppressions({}).rules.empty());

  const std::string missing = (directory / "missing.supp").string();
  CHECK_THROWS_WITH(load_suppressions({first, missing}), missing + ": No such file or directory");
  CHECK_THROWS_WITH(load_suppressions({directory.path().string()}), directory.path().string() + ": is a directory");
  const std::string bad = (directory / "bad.supp").string();
  heapsnap::test::write_text_file(bad, "leak:a\nleek:b\n");
  CHECK_THROWS_WITH(load_suppressions({bad}), bad + ": line 2, column 1: unknown rule kind \"leek\" (expected leak, direct, indirect or cycle)");
  const std::string huge = (directory / "huge.supp").string();
  heapsnap::test::write_text_file(huge, std::string(kMaxSuppressionFileBytes + 1, '#'));
  CHECK_THROWS_WITH(load_suppressions({huge}), huge + ": larger than 8 MiB");
}

// ---------------------------------------------------------------------------------------------------
// Valgrind's leak suppressions

TEST_CASE("a Valgrind suppression file: leak rules with their frames and kinds; other tools' rules left out", "[suppressions][valgrind]") {
  SuppressionList list;
  parse_suppressions("# from valgrind --gen-suppressions=all\n"
                     "{\n"
                     "   buffers\n"
                     "   Memcheck:Leak\n"
                     "   match-leak-kinds: definite\n"
                     "   fun:malloc\n"
                     "   fun:make_buffer\n"
                     "   ...\n"
                     "   obj:*/libfoo.so*\n"
                     "}\n"
                     "{\n"
                     "   an uninitialised read\n"
                     "   Memcheck:Cond\n"
                     "   fun:strlen\n"
                     "}\n"
                     "{\n"
                     "   a syscall\n"
                     "   Memcheck:Param\n"
                     "   write(buf)\n"
                     "   fun:write\n"
                     "}\n"
                     "  {\n"
                     "   all kinds, src too\n"
                     "   Memcheck:Leak\n"
                     "   src:leaky.cpp:23\n"
                     "  }\n"
                     "leak:make_record\n",
                     "valgrind.supp", list);
  REQUIRE(list.rules.size() == 3);
  const SuppressionRule& buffers = list.rules[0];
  CHECK(buffers.line == 2);
  CHECK(buffers.pattern == "{buffers}");
  CHECK(buffers.kind == SuppressionKind::Direct);
  CHECK(buffers.leak_kinds == (kDirectLeaks | kCycleLeaks | kAllocatedBlocks));
  REQUIRE(buffers.frames.size() == 4);
  CHECK(buffers.frames[0].field == FramePattern::Field::Function);
  CHECK(buffers.frames[0].pattern == "malloc");
  CHECK(buffers.frames[2].field == FramePattern::Field::AnyFrames);
  CHECK(buffers.frames[3].field == FramePattern::Field::Object);
  CHECK(buffers.frames[3].glob.matches("/usr/lib/libfoo.so.1"));
  CHECK(list.rules[1].pattern == "{all kinds, src too}");
  CHECK(list.rules[1].leak_kinds == kEveryLeak);
  CHECK(list.rules[1].frames.at(0).field == FramePattern::Field::Source);
  CHECK(list.rules[2].frames.empty());  // a leak: rule after them
  CHECK(list.rules[2].leak_kinds == kEveryLeak);
}

TEST_CASE("Valgrind suppression errors name the line and column", "[suppressions][valgrind]") {
  CHECK(error_of("{\n  name\n  Memcheck:Leak\n  fun:f\n") == "1:1: suppression not closed: no '}' before the end of the file");
  CHECK(error_of("{ name\n}\n") == "1:2: nothing may follow '{' on its line");
  CHECK(error_of("{\n  name\n  Leak\n  fun:f\n}\n") == "3:3: expected Tool:Kind, such as Memcheck:Leak, got \"Leak\"");
  CHECK(error_of("{\n  name\n}\n") == "3:1: suppression ends before its Tool:Kind line");
  CHECK(error_of("{\n  name\n  Memcheck:Leak\n  match-leak-kinds: definite,lost\n  fun:f\n}\n") ==
        "4:30: unknown leak kind \"lost\" (expected definite, indirect, possible, reachable or all)");
  CHECK(error_of("{\n  name\n  Memcheck:Leak\n  fn:f\n}\n") == "4:3: expected fun:, obj:, src:, ... or }, got \"fn:f\"");
  CHECK(error_of("{\n  name\n  Memcheck:Leak\n  fun:\n}\n") == "4:7: empty pattern after 'fun:'");
  CHECK(error_of("{\n  name\n  Memcheck:Leak\n  match-leak-kinds: all\n}\n") ==
        "5:1: a leak suppression needs at least one fun:, obj:, src: or ... line");
}
