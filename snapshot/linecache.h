#pragma once
// Source lines for tracebacks, read the way Python's linecache.getline() reads them, so that
// format_traceback() and display_top() show the same lines as tracemalloc on the same files.
//
// What is reproduced: a name in angle brackets ("<unknown>", "<string>") has no source; the file is
// read whole and split on "\n", "\r\n" and "\r" (universal newlines); a UTF-8 byte order mark and a
// PEP 263 coding cookie ("# -*- coding: latin-1 -*-" on one of the first two lines) choose the
// decoding; a file that does not decode has no lines at all; line numbers outside the file give "".
// What is not: Python's search of a relative name along sys.path (here: the names in `search_path`,
// in order, after the name itself) and its module loaders. Cookies other than UTF-8 and Latin-1
// (ISO-8859-1) read as no source.
//
// A LineCache keeps every file it has read (as linecache does until checkcache()); it is not
// thread-safe: use one per thread, or per report.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace heapsnap {

class LineCache {
 public:
  LineCache() = default;
  // Relative names not found as given are looked up in these directories, in order.
  explicit LineCache(std::vector<std::filesystem::path> search_path);

  // Line `lineno` (1-based) of `filename`, UTF-8, ending in "\n"; "" when there is no such line or
  // the file cannot be read (linecache.getline).
  const std::string& getline(const std::string& filename, std::uint32_t lineno);

  // Forgets every file read so far (linecache.clearcache).
  void clear() { files_.clear(); }

 private:
  const std::vector<std::string>& lines_of(const std::string& filename);

  std::vector<std::filesystem::path> search_path_;
  std::map<std::string, std::vector<std::string>, std::less<>> files_;
};

// The lines of a source file's contents as linecache sees them (decoding and line splitting above),
// each ending in "\n"; empty when the contents do not decode. Exposed for tests.
std::vector<std::string> split_source_lines(std::string_view contents);

// Python's str.strip() without arguments: removes leading and trailing Unicode whitespace (as
// str.isspace() defines it) from UTF-8 text.
std::string strip_whitespace(std::string_view text);

}  // namespace heapsnap
