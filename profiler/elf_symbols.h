#pragma once
// Whether an ELF file carries its own symbols: a symbol table or DWARF debug information in the file
// itself. Stripped system libraries do not (their debug information, when installed, is a separate
// file under /usr/lib/debug); the symbolizer names their frames from the dynamic symbol table instead
// of having libbacktrace read the separate file (see module_visibility.h for why that matters).

namespace heapsnap {

// False as well when the file cannot be read or is not a 64-bit ELF file.
bool carries_own_symbols(const char* path) noexcept;

}  // namespace heapsnap
