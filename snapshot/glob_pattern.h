#pragma once
// The glob of a suppression rule (docs/suppressions.md): `*` matches any run of characters, empty
// included (also '/' and ':'), `?` exactly one character, anything else itself; the whole subject must
// match, case-sensitively. A character is a UTF-8 code point, or a single byte where the subject is
// not valid UTF-8 (symbol names and paths are arbitrary bytes).
//
// Matching never recurses and backtracks only to the last `*`: at most pattern × subject steps,
// whatever the input.

#include <string>
#include <string_view>
#include <vector>

namespace heapsnap {

class GlobPattern {
 public:
  void add_literal(std::string_view text);  // matched byte for byte: no wildcard inside
  void add_any_character();                 // ?
  void add_any_run();                       // *; several in a row are one

  bool matches(std::string_view subject) const;
  bool empty() const { return elements_.empty(); }

 private:
  // One byte to match, or a wildcard: kept apart from bytes so that a literal '*' stays a literal.
  struct Element {
    enum class Kind : unsigned char { Byte, AnyCharacter, AnyRun } kind;
    char byte;
  };
  std::vector<Element> elements_;
};

// Whether `glob` matches `path`, or a suffix of it that starts after a '/', with `tail` appended
// ("leaky.cpp" and "samples/leaky.cpp" match "/src/samples/leaky.cpp"; ":23" after it for a line).
// False for an empty path.
bool matches_path(const GlobPattern& glob, std::string_view path, std::string_view tail = {});

}  // namespace heapsnap
