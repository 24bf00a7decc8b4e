#pragma once
// Return address -> source frames, once per distinct address, with every inlined call expanded
// (innermost first), so a leak in an inlined helper or lambda is reported at its own line rather than
// at the line of the function it was inlined into. Slow by nature; called when a snapshot is built,
// never on the allocation path.
//
// Reads debug information lazily, one module at a time, and only for modules the symbolized stacks go
// through: a module that carries its own symbols or DWARF gets a libbacktrace state (Boost.Stacktrace's
// backend) that sees that module alone; a stripped one (a system library) is named from its dynamic
// symbol table. So symbolizing costs memory in proportion to the program's own debug information, not
// to every debug package installed on the machine.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/elf_symbols.h"
#include "runtime/module_visibility.h"
#include "snapshot/frame.h"

struct backtrace_state;

namespace heapsnap {

// The source path DWARF gave, repaired: GCC 12's libbacktrace joins the compilation directory to a
// file name that DWARF 5 (clang's default) already gives absolute, "/build//src/a.cpp". When the
// doubled slash starts an absolute path that exists and the joined one does not, that path is it.
std::string source_file_path(const char* dwarf_path);

class Symbolizer {
 public:
  // Whether a lookup may read a module's debug information for the first time. OnlyRead names a frame
  // in a module not read yet from its dynamic symbols alone, with its build-id and offset, for the
  // reading commands to name from the debug files later: what a snapshot's less important stacks
  // get, so that they never make the profiled process parse another module's DWARF at exit.
  enum class DebugInfo { Read, OnlyRead };

  // `return_address` is what the unwinder saw; the call instruction is one byte before it.
  // Never empty.
  const std::vector<Frame>& frames_for(std::uintptr_t return_address, DebugInfo debug_info = DebugInfo::Read);

 private:
  struct ModuleReader {
    LoadedModule module;
    ::backtrace_state* state = nullptr;  // null: named from the dynamic symbol table only
  };
  const ModuleReader& reader_for(const LoadedModule& module);
  struct ModuleFile {
    std::string path;            // as the loader names it (dladdr's dli_fname); empty when unknown
    std::uintptr_t start = 0;    // where it is mapped (dli_fbase): frames keep module-relative offsets
    std::string build_id;        // its GNU build-id, hexadecimal; "" when it has none
  };
  const ModuleFile& module_file(const LoadedModule& module, std::uintptr_t address);
  // The name of the dynamic symbol holding `call_site` in a stripped module, or null.
  const char* dynamic_symbol_name(const LoadedModule& module, std::uintptr_t call_site);
  struct DynamicNames {
    unsigned lookups = 0;         // answered by dladdr so far
    bool indexed = false;
    DynamicSymbols index;         // read once the module has had kIndexAfterLookups lookups
  };

  struct CachedFrames {
    std::vector<Frame> frames;
    bool complete = false;  // the module's debug information was read for them
  };
  std::unordered_map<std::uintptr_t, CachedFrames> cache_;
  std::unordered_map<std::string, std::string> source_paths_;  // source_file_path of each DWARF path
  // Keyed by (load bias, name); libbacktrace states cannot be freed, so readers live as long as this.
  std::map<std::pair<std::uintptr_t, std::string>, ModuleReader> readers_;
  std::map<std::pair<std::uintptr_t, std::string>, ModuleFile> files_;  // by (load bias, name), as readers_
  std::map<std::pair<std::uintptr_t, std::string>, DynamicNames> dynamic_names_;  // likewise
};

}  // namespace heapsnap
