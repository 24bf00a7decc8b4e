#pragma once
// One symbolized stack frame, as stored in snapshots and reports.

#include <compare>
#include <cstdint>
#include <string>
#include <tuple>

namespace heapsnap {

struct Frame {
  std::string filename;       // source file; the module path when there is no line info; "<unknown>" otherwise
  std::uint32_t lineno = 0;   // 1-based source line; 0 when unknown
  std::string function;       // demangled function name; empty when unknown (e.g. frames from Python)
  std::string module;         // executable or shared object that holds `address`; empty when unknown
  std::uint64_t address = 0;  // instruction address in the profiled process (call site); 0 when unknown
  // For a frame without a source line, in a module that has a GNU build-id: that id (hex) and the call
  // site's address in the module's own ELF address space, so that a later `heapsnap symbolize` can name
  // it from the module's separate debug file, on any machine that has it.
  std::string build_id;
  std::uint64_t offset = 0;

  // Identity is what a user reads: where in the source. Two call instructions on the same line are one
  // frame, as in tracemalloc; `function` separates frames that have no line info. `module` and `address`
  // are informative only.
  auto identity() const { return std::tie(filename, lineno, function); }
  friend bool operator==(const Frame& a, const Frame& b) { return a.identity() == b.identity(); }
  friend std::strong_ordering operator<=>(const Frame& a, const Frame& b) {
    return a.identity() <=> b.identity();
  }
};

}  // namespace heapsnap
