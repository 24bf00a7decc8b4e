// The source-file reader behind format_traceback and display_top (split_source_lines): any bytes give
// lines of valid UTF-8 each ending in "\n", or no lines when the contents do not decode.

#include <string>

#include "fuzz/fuzz_target.h"
#include "snapshot/linecache.h"
#include "snapshot/utf8.h"

namespace heapsnap::fuzz {

Outcome fuzz_one(std::string_view input) {
  const std::vector<std::string> lines = split_source_lines(input);
  for (const std::string& line : lines) {
    require(!line.empty() && line.back() == '\n', "a source line that does not end in a newline");
    for (std::size_t i = 0; i < line.size();) {
      const std::size_t length = utf8_sequence_length(line, i);
      require(length != 0, "a source line that is not valid UTF-8");
      i += length;
    }
    strip_whitespace(line);
  }
  return lines.empty() && !input.empty() ? Outcome::Rejected : Outcome::Accepted;
}

}  // namespace heapsnap::fuzz
