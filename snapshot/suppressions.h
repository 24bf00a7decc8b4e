#pragma once
// Suppression files (docs/suppressions.md): known leaks a CI gate ignores, one rule per line,
//   # comment
//   leak:make_buffer            any leaked block with a frame in make_buffer
//   cycle:*/vendor/graph/*      leaked reference cycles with a member allocated under vendor/graph/
//   direct:leaky.cpp:23         direct leaks allocated at that line (indirect:, too)
// Parsing is strict: anything unexpected is a SuppressionError naming the file, line and column, so a
// typo never silently suppresses nothing (or everything).

#include <cstddef>
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

struct SuppressionRule {
  std::string file;       // the suppression file, as named on the command line
  std::size_t line = 0;   // 1-based
  SuppressionKind kind = SuppressionKind::Leak;
  std::string pattern;    // as written (escapes included), without surrounding blanks or a comment
  GlobPattern glob;       // what `pattern` matches
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
