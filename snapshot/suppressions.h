#pragma once
// Suppression files (docs/suppressions.md): known leaks a CI gate ignores: rules of one line,
//   # comment
//   leak:make_buffer            any leaked block with a frame in make_buffer
//   cycle:*/vendor/graph/*      leaked reference cycles with a member allocated under vendor/graph/
//   direct:leaky.cpp:23         direct leaks allocated at that line (indirect:, too)
// and Valgrind's leak suppressions, frame by frame from the allocation site:
//   {
//      a-name
//      Memcheck:Leak
//      match-leak-kinds: definite,indirect
//      fun:make_buffer
//      ...
//      obj:*/libfoo.so*
//   }
// Parsing is strict: anything unexpected is a SuppressionError naming the file, line and column, so a
// typo never silently suppresses nothing (or everything).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/glob_pattern.h"

namespace heapsnap {

inline constexpr int kSuppressionsVersion = 1;
inline constexpr std::size_t kMaxSuppressionLineBytes = 4096;
inline constexpr std::size_t kMaxSuppressionRules = 10000;          // over all files of one list
inline constexpr std::size_t kMaxSuppressionFileBytes = 8u << 20;   // 8 MiB

enum class SuppressionKind {
  Leak,      // every leaked block, and whole leaked cycles with a matching member
  Direct,    // direct leaks only
  Indirect,  // indirect leaks only
  Cycle,     // leaked cycles (whole) with a matching member, and blocks of kind cycle
};

std::string_view suppression_kind_name(SuppressionKind kind);  // "leak", "direct", "indirect", "cycle"

// The leak kinds a rule applies to, as bits; a snapshot without leak analysis has only Allocated.
enum LeakKindBits : std::uint8_t {
  kDirectLeaks = 1,
  kIndirectLeaks = 2,
  kCycleLeaks = 4,
  kAllocatedBlocks = 8,
  kEveryLeak = 15,
};

// One line of a Valgrind rule's stack, from the allocation site outwards.
struct FramePattern {
  enum class Field { Function, Object, Source, AnyFrames };  // fun:, obj:, src:, "..."
  Field field = Field::AnyFrames;
  std::string pattern;  // as written after the prefix
  GlobPattern glob;
};

struct SuppressionRule {
  std::string file;       // the suppression file, as named on the command line
  std::size_t line = 0;   // 1-based; a Valgrind rule: the line of its '{'
  SuppressionKind kind = SuppressionKind::Leak;
  std::string pattern;    // as written (escapes included), without surrounding blanks or a comment;
                          // a Valgrind rule: "{<its name>}"
  GlobPattern glob;       // what `pattern` matches (KIND:PATTERN rules)
  std::uint8_t leak_kinds = kEveryLeak;  // LeakKindBits
  std::vector<FramePattern> frames;      // a Valgrind rule's stack; empty for KIND:PATTERN rules
};

// The rules of one or more files, in the order they are tried: files in command-line order, each
// top to bottom. A leak is counted against the first rule that matches it.
struct SuppressionList {
  std::vector<std::string> files;
  std::vector<SuppressionRule> rules;
};

// A suppression file that cannot be used. what() is "<file>: line L, column C: <reason>", or
// "<file>: <reason>" without a position (missing file, too large).
class SuppressionError : public std::runtime_error {
 public:
  SuppressionError(std::string file, std::size_t line, std::size_t column, std::string reason);

  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }      // 1-based; 0 when there is no position
  std::size_t column() const noexcept { return column_; }  // 1-based byte in the line; 0 likewise
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_;
  std::size_t line_;
  std::size_t column_;
  std::string reason_;
};

// Appends the rules of `text`, the contents of the file named `source`, to `list`.
// Throws SuppressionError for anything that is not a valid version-1 suppression file.
void parse_suppressions(std::string_view text, const std::string& source, SuppressionList& list);

// Reads the suppression files at `paths`, in order. Throws SuppressionError.
SuppressionList load_suppressions(const std::vector<std::string>& paths);

}  // namespace heapsnap
