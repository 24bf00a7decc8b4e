// The suppression-file parser (parse_suppressions) and its globs: a SuppressionError with a position
// inside the input, or rules that then match against frames made from the input itself.

#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "snapshot/suppression_filter.h"
#include "snapshot/valgrind_stack_match.h"
#include "snapshot/suppressions.h"

namespace heapsnap::fuzz {

Outcome fuzz_one(std::string_view input) {
  SuppressionList list;
  try {
    parse_suppressions(input, "fuzz.supp", list);
  } catch (const SuppressionError& error) {
    // A position names a line of the input and a column at most one past its longest allowed line.
    if (error.line() != 0) {
      std::size_t lines = 1;
      for (const char c : input) lines += c == '\n' ? 1 : 0;
      require(error.line() <= lines, "error position beyond the last line");
      require(error.column() >= 1 && error.column() <= kMaxSuppressionLineBytes + 1, "error column out of range");
    }
    return Outcome::Rejected;
  }
  require(list.rules.size() <= kMaxSuppressionRules, "more rules than allowed");
  // Subjects from the input: each rule's own pattern text must match itself when it has no wildcard,
  // and every glob runs on every line (the worst case of the matcher on what the fuzzer builds).
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= input.size() && lines.size() < 64;) {
    const std::size_t end = std::min(input.find('\n', start), input.size());
    lines.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  Traceback stack_of_lines;
  for (const std::string_view line : lines) {
    Frame frame;
    frame.function = std::string(line);
    frame.filename = "/src/" + std::string(line);
    frame.module = std::string(line) + ".so";
    frame.lineno = static_cast<std::uint32_t>(line.size());
    stack_of_lines.frames.push_back(std::move(frame));
  }
  for (const SuppressionRule& rule : list.rules) {
    if (!rule.frames.empty()) {  // a Valgrind rule: each frame line's glob, then the whole-stack matcher
      for (const FramePattern& line : rule.frames) {
        if (line.field == FramePattern::Field::AnyFrames) continue;
        require(!line.glob.empty(), "a frame line with an empty pattern");
        if (line.pattern.find_first_of("*?\\") == std::string::npos) {
          require(line.glob.matches(line.pattern), "a literal frame pattern does not match itself");
        }
      }
      stack_matches(rule, stack_of_lines);
      continue;
    }
    require(!rule.glob.empty(), "a rule with an empty pattern");
    if (rule.pattern.find_first_of("*?\\") == std::string::npos) {
      require(rule.glob.matches(rule.pattern), "a literal pattern does not match itself");
    }
    for (const Frame& frame : stack_of_lines.frames) frame_matches(rule, frame);
  }
  return Outcome::Accepted;
}

}  // namespace heapsnap::fuzz
