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

namespace {

// The lines of a file, numbered from 1, without their line breaks (\n or \r\n).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  bool next(std::string_view& line) {
    if (text_.empty()) return false;
    ++number_;
    const std::size_t newline = text_.find('\n');
    line = text_.substr(0, newline);
    text_.remove_prefix(newline == std::string_view::npos ? text_.size() : newline + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return true;
  }
  std::size_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t number_ = 0;
};

// match-leak-kinds: Valgrind's kinds as heapsnap's. Possibly lost and still reachable blocks are not
// leaks heapsnap reports, so they add nothing.
std::uint8_t valgrind_leak_kinds(const LineParser& parser, std::size_t begin, std::size_t end) {
  std::uint8_t kinds = 0;
  for (std::size_t at = begin; at < end;) {
    std::size_t comma = parser.find(',', at);
    if (comma == std::string_view::npos || comma > end) comma = end;
    const std::string_view kind = parser.text(at, comma);
    if (kind == "all") kinds |= kEveryLeak;
    else if (kind == "definite") kinds |= kDirectLeaks | kCycleLeaks | kAllocatedBlocks;
    else if (kind == "indirect") kinds |= kIndirectLeaks | kCycleLeaks | kAllocatedBlocks;
    else if (kind != "possible" && kind != "reachable")
      parser.fail(at, "unknown leak kind " + quote(kind) + " (expected definite, indirect, possible, reachable or all)");
    at = comma + 1;
  }
  return kinds;
}

std::uint8_t leak_kinds_of(SuppressionKind kind) {
  switch (kind) {
    case SuppressionKind::Leak: return kEveryLeak;
    case SuppressionKind::Direct: return kDirectLeaks;
    case SuppressionKind::Indirect: return kIndirectLeaks;
    case SuppressionKind::Cycle: return kCycleLeaks;
  }
  return kEveryLeak;
}

SuppressionKind kind_for_display(std::uint8_t kinds) {
  if (kinds == (kDirectLeaks | kCycleLeaks | kAllocatedBlocks)) return SuppressionKind::Direct;
  if (kinds == (kIndirectLeaks | kCycleLeaks | kAllocatedBlocks)) return SuppressionKind::Indirect;
  return SuppressionKind::Leak;
}

// A Valgrind suppression, from the line after its '{' to its '}'. Only Memcheck:Leak rules become
// rules; the others (Memcheck:Cond, Helgrind:Race, ...) are read and left out, as they concern errors
// heapsnap does not report.
void parse_valgrind_block(LineReader& reader, const std::string& source, std::size_t opening_line,
                          SuppressionList& list) {
  enum class Expect { Name, Tool, KindsOrFrames, Frames } expect = Expect::Name;
  SuppressionRule rule{source, opening_line, SuppressionKind::Leak, "", GlobPattern{}, kEveryLeak, {}};
  bool is_leak_rule = false;
  std::string_view line;
  while (reader.next(line)) {
    const LineParser parser(source, reader.number(), line);
    parser.check_characters();
    const std::size_t start = parser.skip_blanks(0);
    if (start == parser.size() || parser.at(start) == '#') continue;
    std::size_t end = parser.size();
    while (end > start && is_blank(parser.at(end - 1))) --end;
    const std::string_view text = parser.text(start, end);
    if (text == "}") {
      if (expect == Expect::Name || expect == Expect::Tool) parser.fail(start, "suppression ends before its Tool:Kind line");
      if (!is_leak_rule) return;
      if (rule.frames.empty()) parser.fail(start, "a leak suppression needs at least one fun:, obj:, src: or ... line");
      if (list.rules.size() >= kMaxSuppressionRules) parser.fail(start, "more than " + std::to_string(kMaxSuppressionRules) + " rules");
      rule.kind = kind_for_display(rule.leak_kinds);
      list.rules.push_back(std::move(rule));
      return;
    }
    switch (expect) {
      case Expect::Name:
        rule.pattern = "{" + std::string(text) + "}";
        expect = Expect::Tool;
        continue;
      case Expect::Tool: {
        const std::size_t colon = text.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
          parser.fail(start, "expected Tool:Kind, such as Memcheck:Leak, got " + quote(text));
        is_leak_rule = text.substr(0, colon).find("Memcheck") != std::string_view::npos && text.substr(colon + 1) == "Leak";
        expect = Expect::KindsOrFrames;
        continue;
      }
      case Expect::KindsOrFrames:
        expect = Expect::Frames;
        if (text.starts_with("match-leak-kinds:")) {
          const std::size_t value = parser.skip_blanks(start + std::string_view("match-leak-kinds:").size());
          if (value == end) parser.fail(start, "empty match-leak-kinds:");
          if (is_leak_rule) rule.leak_kinds = valgrind_leak_kinds(parser, value, end);
          continue;
        }
        if (!is_leak_rule) continue;  // e.g. Memcheck:Param's parameter name
        break;
      case Expect::Frames:
        break;
    }
    if (!is_leak_rule) continue;
    FramePattern frame;
    if (text == "...") {
      frame.field = FramePattern::Field::AnyFrames;
    } else {
      std::size_t prefix = 0;
      if (text.starts_with("fun:")) frame.field = FramePattern::Field::Function, prefix = 4;
      else if (text.starts_with("obj:")) frame.field = FramePattern::Field::Object, prefix = 4;
      else if (text.starts_with("src:")) frame.field = FramePattern::Field::Source, prefix = 4;
      else parser.fail(start, "expected fun:, obj:, src:, ... or }, got " + quote(text));
      if (start + prefix == end) parser.fail(start + prefix, "empty pattern after '" + std::string(text.substr(0, prefix)) + "'");
      frame.pattern = std::string(parser.text(start + prefix, end));
      frame.glob = parser.glob(start + prefix, end);
    }
    rule.frames.push_back(std::move(frame));
  }
  throw SuppressionError(source, opening_line, 1, "suppression not closed: no '}' before the end of the file");
}

}  // namespace

void parse_suppressions(std::string_view text, const std::string& source, SuppressionList& list) {
  if (text.size() > kMaxSuppressionFileBytes) {
    throw SuppressionError(source, 0, 0, "larger than " + std::to_string(kMaxSuppressionFileBytes >> 20) + " MiB");
  }
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  list.files.push_back(source);
  bool before_first_entry = true;  // nothing but blank lines and comments so far
  LineReader reader(text);
  std::string_view line;
  while (reader.next(line)) {
    const std::size_t number = reader.number();
    const LineParser parser(source, number, line);
    parser.check_characters();
    const std::size_t start = parser.skip_blanks(0);
    if (start == parser.size() || parser.at(start) == '#') continue;

    if (parser.at(start) == '{') {
      if (parser.skip_blanks(start + 1) != parser.size()) parser.fail(start + 1, "nothing may follow '{' on its line");
      before_first_entry = false;
      parse_valgrind_block(reader, source, number, list);
      continue;
    }

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
                                         parser.glob(value, value_end), leak_kinds_of(*kind), {}});
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
