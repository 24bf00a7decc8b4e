#include "snapshot/linecache.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>

#include "snapshot/utf8.h"

namespace heapsnap {
namespace {

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      result.push_back(c);
    } else {
      result.push_back(static_cast<char>(0xC0 | (byte >> 6)));
      result.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
    }
  }
  return result;
}

// Python's str.isspace() (_PyUnicode_IsWhitespace).
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_blank_space(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// tokenize's cookie_re, r'^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)' (ASCII), on one line: the
// encoding name, or nullopt.
std::optional<std::string> coding_cookie(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_blank_space(line[i])) ++i;
  if (i >= line.size() || line[i] != '#') return std::nullopt;
  // ".*?" is lazy and does not cross a newline: the first "coding[:=]" followed by a name wins.
  for (std::size_t at = line.find("coding", i); at != std::string_view::npos; at = line.find("coding", at + 1)) {
    if (line.substr(i, at - i).find('\n') != std::string_view::npos) return std::nullopt;
    std::size_t k = at + 6;
    if (k >= line.size() || (line[k] != ':' && line[k] != '=')) continue;
    ++k;
    while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
    const std::size_t start = k;
    while (k < line.size() && (std::isalnum(static_cast<unsigned char>(line[k])) || line[k] == '_' ||
                               line[k] == '-' || line[k] == '.')) {
      ++k;
    }
    if (k > start) return std::string(line.substr(start, k - start));
  }
  return std::nullopt;
}

// tokenize's blank_re, br'^[ \t\f]*(?:[#\r\n]|$)': a line that is blank or only a comment.
bool is_blank_or_comment(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_blank_space(line[i])) ++i;
  return i == line.size() || line[i] == '#' || line[i] == '\r' || line[i] == '\n';
}

// Unsupported: a codec Python has but this reader does not; Invalid: where Python raises SyntaxError
// (a first line that is not UTF-8, an unknown codec, a byte order mark with another cookie).
enum class Encoding { Utf8, Latin1, Ascii, Unsupported, Invalid };

std::string lowercase_dashes(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
  return text;
}

// tokenize._get_normal_name, then the codecs this reader knows.
Encoding encoding_named(const std::string& name) {
  const std::string normal = lowercase_dashes(name.substr(0, 12));
  const auto is_or_starts = [&](std::string_view base) {
    return normal == base || normal.starts_with(std::string(base) + "-");
  };
  if (is_or_starts("utf-8")) return Encoding::Utf8;
  if (is_or_starts("latin-1") || is_or_starts("iso-8859-1") || is_or_starts("iso-latin-1")) return Encoding::Latin1;
  const std::string lowered = lowercase_dashes(name);
  if (lowered == "ascii" || lowered == "us-ascii") return Encoding::Ascii;
  return Encoding::Unsupported;
}

// tokenize.detect_encoding's find_cookie on one line: the cookie's encoding, or nullopt for none.
std::optional<Encoding> cookie_encoding(std::string_view line, bool bom) {
  if (!is_valid_utf8(line)) return Encoding::Invalid;
  const std::optional<std::string> name = coding_cookie(line);
  if (!name) return std::nullopt;
  const Encoding encoding = encoding_named(*name);
  return bom && encoding != Encoding::Utf8 ? Encoding::Invalid : encoding;
}

std::string_view first_line(std::string_view text) {  // up to and with the first "\n"
  const std::size_t end = text.find('\n');
  return text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
}

// tokenize.detect_encoding on the first two lines (split on "\n" only, as a binary readline does).
Encoding detect_encoding(std::string_view contents, bool bom) {
  const std::string_view first = first_line(contents);
  const std::string_view second = first_line(contents.substr(first.size()));
  if (first.empty()) return Encoding::Utf8;
  if (const auto encoding = cookie_encoding(first, bom)) return *encoding;
  if (!is_blank_or_comment(first) || second.empty()) return Encoding::Utf8;
  return cookie_encoding(second, bom).value_or(Encoding::Utf8);
}

}  // namespace

std::vector<std::string> split_source_lines(std::string_view contents) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const bool bom = contents.starts_with(kBom);
  if (bom) contents.remove_prefix(kBom.size());
  std::string text;
  switch (detect_encoding(contents, bom)) {
    case Encoding::Utf8:
      if (!is_valid_utf8(contents)) return {};
      text = contents;
      break;
    case Encoding::Ascii:
      if (std::any_of(contents.begin(), contents.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        return {};
      }
      text = contents;
      break;
    case Encoding::Latin1:
      text = latin1_to_utf8(contents);
      break;
    case Encoding::Unsupported:
    case Encoding::Invalid:
      return {};
  }

  // Universal newlines: "\r\n" and "\r" read as "\n"; every line keeps its "\n", the last one gets one.
  std::vector<std::string> lines;
  std::string line;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\r' && c != '\n') {
      line.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    line.push_back('\n');
    lines.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) lines.push_back(line + "\n");
  return lines;
}

std::string strip_whitespace(std::string_view text) {
  // Decode into (offset, length, is_space) steps; invalid bytes are not whitespace.
  std::size_t begin = text.size();
  std::size_t end = 0;
  for (std::size_t i = 0; i < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence_length(text, i, &c);
    const bool space = length != 0 && is_python_space(c);
    if (length == 0) length = 1;
    if (!space) {
      begin = std::min(begin, i);
      end = i + length;
    }
    i += length;
  }
  return begin >= end ? std::string() : std::string(text.substr(begin, end - begin));
}

LineCache::LineCache(std::vector<std::filesystem::path> search_path) : search_path_(std::move(search_path)) {}

const std::string& LineCache::getline(const std::string& filename, std::uint32_t lineno) {
  static const std::string kNoLine;
  const std::vector<std::string>& lines = lines_of(filename);
  return lineno >= 1 && lineno <= lines.size() ? lines[lineno - 1] : kNoLine;
}

const std::vector<std::string>& LineCache::lines_of(const std::string& filename) {
  if (const auto cached = files_.find(filename); cached != files_.end()) return cached->second;
  std::vector<std::string>& lines = files_[filename];
  if (filename.empty() || (filename.front() == '<' && filename.back() == '>')) return lines;

  // linecache: the name as given if it exists (even if it then cannot be read); else, for a relative
  // name, the first directory of the search path that has it.
  std::error_code error;
  std::filesystem::path found = filename;
  if (!std::filesystem::exists(found, error)) {
    if (found.is_absolute()) return lines;
    const auto has_it = [&](const std::filesystem::path& directory) {
      return std::filesystem::exists(directory / filename, error);
    };
    const auto directory = std::find_if(search_path_.begin(), search_path_.end(), has_it);
    if (directory == search_path_.end()) return lines;
    found = *directory / filename;
  }
  // Only regular files: a snapshot may name anything, and /dev/zero would never end, a FIFO never open.
  if (!std::filesystem::is_regular_file(found, error)) return lines;
  std::ifstream in(found, std::ios::binary);
  if (!in) return lines;
  const std::string contents{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return lines;
  lines = split_source_lines(contents);
  return lines;
}

}  // namespace heapsnap
