#pragma once
// Whether an ELF file carries its own symbols: a symbol table or DWARF debug information in the file
// itself. Stripped system libraries do not (their debug information, when installed, is a separate
// file under /usr/lib/debug); the symbolizer names their frames from the dynamic symbol table instead
// of having libbacktrace read the separate file (see module_visibility.h for why that matters).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heapsnap {

// False as well when the file cannot be read or is not a 64-bit ELF file.
bool carries_own_symbols(const char* path) noexcept;

// The GNU build-id of the loaded module whose load bias is `load_bias`, read from its PT_NOTE segment
// in memory (no file is opened): lowercase hexadecimal, "" when it has none or is not loaded.
std::string loaded_build_id(std::uintptr_t load_bias) noexcept;

// The defined symbols of a file's dynamic symbol table (.dynsym), sorted by address, read once: the
// names of a stripped module's exported functions. dladdr answers the same question by scanning the
// whole table on every call, which for a big program (cc1plus exports 31k symbols) made symbolizing
// its stacks most of a run's time.
class DynamicSymbols {
 public:
  // Empty when the file cannot be read, is not a 64-bit ELF file or has no dynamic symbols.
  static DynamicSymbols of_file(const char* path) noexcept;

  // The symbol whose extent holds `address` (a link-time address: the run-time address minus the
  // module's load bias); a symbol without a size holds everything up to the next one. Null when none.
  const char* name_at(std::uint64_t address) const;
  std::size_t size() const { return symbols_.size(); }

 private:
  struct Symbol {
    std::uint64_t start;
    std::uint64_t size;
    std::uint32_t name;  // offset into names_
  };
  std::vector<Symbol> symbols_;
  std::string names_;
};

}  // namespace heapsnap
