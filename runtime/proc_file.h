#pragma once
// Reads a small kernel-generated file (/proc/self/maps, /proc/self/status...) whole, with plain
// read(2). Not an ifstream: the first iostream of a process builds the C++ locale, about 0.3 ms that
// every short-lived profiled process would pay at exit.

#include <optional>
#include <string>
#include <string_view>

namespace heapsnap {

// The file's contents, or nothing when it cannot be opened or read.
std::optional<std::string> read_proc_file(const char* path);

// Calls visit(piece) for each piece of `text` that `separator` ends (lines, NUL-terminated arguments);
// a last piece without a separator counts too.
template <typename Visit>
void for_each_piece(std::string_view text, char separator, Visit&& visit) {
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find(separator, at);
    if (end == std::string_view::npos) end = text.size();
    visit(text.substr(at, end - at));
    at = end + 1;
  }
}

// The value after "Name:" on the line that starts with it in a /proc status file, whitespace
// trimmed; empty when there is no such line.
std::string_view proc_status_field(std::string_view status, std::string_view name);

}  // namespace heapsnap
