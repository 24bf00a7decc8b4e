#include "snapshot/suppressions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "snapshot/utf8.h"

namespace heapsnap {
namespace {

constexpr std::array<std::pair<std::string_view, SuppressionKind>, 4> kKinds = {{
    {"leak", SuppressionKind::Leak},
    {"direct", SuppressionKind::Direct},
    {"indirect", SuppressionKind::Indirect},
    {"cycle", SuppressionKind::Cycle},
}};

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string position_text(std::size_t line, std::size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Text from the (already validated) line for a message: in quotes, cut short at a character boundary.
std::string quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 40;
  if (text.size() <= kMaxShown) return "\"" + std::string(text) + "\"";
  std::size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "\"" + std::string(text.substr(0, cut)) + "...\"";
}

// One line of a suppression file, without its line break; offsets are bytes into it.
class LineParser {
 public:
  LineParser(const std::string& source, std::size_t number, std::string_view line)
      : source_(source), number_(number), line_(line) {}

  [[noreturn]] void fail(std::size_t offset, const std::string& reason) const {
    throw SuppressionError(source_, number_, offset + 1, reason);
  }

  void check_characters() const {
    if (line_.size() > kMaxSuppressionLineBytes) {
      fail(kMaxSuppressionLineBytes, "line longer than " + std::to_string(kMaxSuppressionLineBytes) + " bytes");
    }
    for (std::size_t i = 0; i < line_.size();) {
      const auto byte = static_cast<unsigned char>(line_[i]);
      if (byte < 0x80) {
        if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
          static constexpr char kHex[] = "0123456789ABCDEF";
          fail(i, std::string("control character U+00") + kHex[byte >> 4] + kHex[byte & 0xF]);
        }
        ++i;
        continue;
      }
      const std::size_t length = utf8_sequence_length(line_, i);
      if (length == 0) fail(i, "not valid UTF-8");
      i += length;
    }
  }

  std::size_t skip_blanks(std::size_t from) const {
    while (from < line_.size() && is_blank(line_[from])) ++from;
    return from;
  }

  // The end of the value that starts at `from`: before a comment (a '#' after a blank) and trailing
  // blanks. A backslash escapes the next character, so "\#" never starts a comment.
  std::size_t value_end(std::size_t from) const {
    std::size_t end = line_.size();
    for (std::size_t i = from; i < line_.size(); ++i) {
      if (line_[i] == '\\') {
        ++i;
      } else if (line_[i] == '#' && i > 0 && is_blank(line_[i - 1])) {
        end = i;
        break;
      }
    }
    while (end > from && is_blank(line_[end - 1])) --end;
    return end;
  }

  GlobPattern glob(std::size_t begin, std::size_t end) const {
    GlobPattern glob;
    std::string literal;
    for (std::size_t i = begin; i < end; ++i) {
      const char c = line_[i];
      if (c == '*' || c == '?') {
        glob.add_literal(literal);
        literal.clear();
        c == '*' ? glob.add_any_run() : glob.add_any_character();
      } else if (c == '\\') {
        if (i + 1 == end) fail(i, "a backslash at the end of a pattern escapes nothing (write \\\\ for a backslash)");
        const char escaped = line_[++i];
        if (escaped != '*' && escaped != '?' && escaped != '#' && escaped != '\\') {
          const std::size_t length = static_cast<unsigned char>(escaped) < 0x80 ? 1 : utf8_sequence_length(line_, i);
          fail(i - 1, "unknown escape " + quote(line_.substr(i - 1, 1 + length)) +
                          " (a backslash escapes only *, ?, # and \\)");
        }
        literal += escaped;
      } else {
        literal += c;
      }
    }
    glob.add_literal(literal);
    return glob;
  }

  std::string_view text(std::size_t begin, std::size_t end) const { return line_.substr(begin, end - begin); }
  std::size_t size() const { return line_.size(); }
  char at(std::size_t i) const { return line_[i]; }
  std::size_t find(char c, std::size_t from) const { return line_.find(c, from); }

 private:
  const std::string& source_;
  std::size_t number_;
  std::string_view line_;
};

}  // namespace

std::string_view suppression_kind_name(SuppressionKind kind) {
  for (const auto& [name, value] : kKinds) {
    if (value == kind) return name;
  }
  return "unknown";
}

SuppressionError::SuppressionError(std::string file, std::size_t line, std::size_t column, std::string reason)
    : std::runtime_error(file + ": " + (line == 0 ? "" : position_text(line, column) + ": ") + reason),
      file_(std::move(file)),
      line_(line),
      column_(column),
      reason_(std::move(reason)) {}

void parse_suppressions(std::string_view text, const std::string& source, SuppressionList& list) {
  if (text.size() > kMaxSuppressionFileBytes) {
    throw SuppressionError(source, 0, 0, "larger than " + std::to_string(kMaxSuppressionFileBytes >> 20) + " MiB");
  }
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  list.files.push_back(source);
  bool before_first_entry = true;  // nothing but blank lines and comments so far
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);  // CRLF line breaks

    const LineParser parser(source, number, line);
    parser.check_characters();
    const std::size_t start = parser.skip_blanks(0);
    if (start == parser.size() || parser.at(start) == '#') continue;

    const std::size_t colon = parser.find(':', start);
    if (colon == std::string_view::npos) parser.fail(start, "expected KIND:PATTERN, such as leak:make_buffer");
    const std::string_view kind_text = parser.text(start, colon);
    const std::size_t value = parser.skip_blanks(colon + 1);
    const std::size_t value_end = parser.value_end(value);

    if (kind_text == "version") {
      if (!before_first_entry) parser.fail(start, "version: must come first, before any rule");
      before_first_entry = false;
      if (value == value_end) parser.fail(colon + 1, "missing version number after 'version:'");
      if (parser.text(value, value_end) != std::to_string(kSuppressionsVersion)) {
        parser.fail(value, "unsupported version " + quote(parser.text(value, value_end)) +
                               " (this heapsnap reads version " + std::to_string(kSuppressionsVersion) + ")");
      }
      continue;
    }
    before_first_entry = false;
    const SuppressionKind* kind = nullptr;
    for (const auto& [name, candidate] : kKinds) {
      if (kind_text == name) kind = &candidate;
    }
    if (kind_text.empty()) parser.fail(start, "missing rule kind before ':' (leak, direct, indirect or cycle)");
    if (kind == nullptr) {
      parser.fail(start, "unknown rule kind " + quote(kind_text) + " (expected leak, direct, indirect or cycle)");
    }
    if (value == value_end) parser.fail(colon + 1, "empty pattern after '" + std::string(kind_text) + ":'");
    if (list.rules.size() >= kMaxSuppressionRules) {
      parser.fail(start, "more than " + std::to_string(kMaxSuppressionRules) + " rules");
    }
    list.rules.push_back(SuppressionRule{source, number, *kind, std::string(parser.text(value, value_end)),
                                         parser.glob(value, value_end)});
  }
}

SuppressionList load_suppressions(const std::vector<std::string>& paths) {
  SuppressionList list;
  for (const std::string& path : paths) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected below as not a regular file.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw SuppressionError(path, 0, 0, std::strerror(errno));
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat status {};
    if (::fstat(fd, &status) != 0) throw SuppressionError(path, 0, 0, std::strerror(errno));
    if (S_ISDIR(status.st_mode)) throw SuppressionError(path, 0, 0, "is a directory");
    if (!S_ISREG(status.st_mode)) throw SuppressionError(path, 0, 0, "not a regular file");

    std::string text;
    std::array<char, 64 * 1024> chunk;
    while (text.size() <= kMaxSuppressionFileBytes) {  // one byte more than allowed is enough to refuse
      const ssize_t got = ::read(fd, chunk.data(), chunk.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw SuppressionError(path, 0, 0, std::strerror(errno));
      if (got == 0) break;
      text.append(chunk.data(), static_cast<std::size_t>(got));
    }
    parse_suppressions(text, path, list);
  }
  return list;
}

}  // namespace heapsnap
