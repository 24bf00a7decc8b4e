#include "symbols/offline_symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "snapshot/function_name.h"

namespace heapsnap {
namespace {

// The debug information in the file itself is all libdw is to read: no search of its own for other
// files, which would bypass the finder's order and debuginfod's time budget.
int no_separate_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word, char**) {
  return -1;
}

const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = nullptr,
    .find_debuginfo = no_separate_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

struct Location {
  std::string function;
  std::string filename;
  std::uint32_t lineno = 0;
};

// A name from a DIE: the linkage name demangled when there is one (as the in-process symbolizer
// prefers it), else DW_AT_name; both followed through abstract origins and specifications.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attribute;
  for (const int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, name, &attribute) != nullptr) {
      if (const char* linkage = dwarf_formstring(&attribute)) return demangled_function_name(linkage);
    }
  }
  const char* plain = dwarf_diename(die);
  if (plain == nullptr && dwarf_attr_integrate(die, DW_AT_name, &attribute) != nullptr) plain = dwarf_formstring(&attribute);
  return plain != nullptr ? plain : "";
}

}  // namespace

// One module's debug file, opened with libdw.
class DebugFileReader {
 public:
  explicit DebugFileReader(const std::string& path) : dwfl_(dwfl_begin(&kOfflineCallbacks)) {
    if (dwfl_ == nullptr) return;
    module_ = dwfl_report_offline(dwfl_, "module", path.c_str(), -1);
    dwfl_report_end(dwfl_, nullptr, nullptr);
    if (module_ != nullptr && dwfl_module_getelf(module_, &bias_) == nullptr) module_ = nullptr;
  }
  ~DebugFileReader() {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
  }
  DebugFileReader(const DebugFileReader&) = delete;
  DebugFileReader& operator=(const DebugFileReader&) = delete;

  bool usable() const { return module_ != nullptr; }

  // `offset`: the address in the module's ELF address space. Offline, libdw places the module
  // somewhere of its choosing; its bias maps one to the other.
  std::optional<Location> locate(std::uint64_t offset) {
    Location location;
    const Dwarf_Addr address = offset + bias_;
    Dwarf_Addr bias = 0;
    Dwarf_Die scanned_unit;
    Dwarf_Die* unit = dwfl_module_addrdie(module_, address, &bias);
    if (unit == nullptr) unit = unit_by_scan(address, scanned_unit, bias);
    if (unit != nullptr) {
      if (Dwarf_Line* line = dwarf_getsrc_die(unit, address - bias)) {
        int lineno = 0;
        const char* file = dwarf_linesrc(line, nullptr, nullptr);
        if (file != nullptr && dwarf_lineno(line, &lineno) == 0 && lineno > 0) {
          location.filename = file;
          location.lineno = static_cast<std::uint32_t>(lineno);
        }
      }
      Dwarf_Die* scopes = nullptr;
      const int count = dwarf_getscopes(unit, address - bias, &scopes);
      for (int i = 0; i < count && location.function.empty(); ++i) {
        const int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) location.function = die_function_name(&scopes[i]);
      }
      std::free(scopes);
    }
    if (location.function.empty()) {
      if (const char* symbol = dwfl_module_addrname(module_, address)) location.function = demangled_function_name(symbol);
    }
    if (location.function.empty() && location.lineno == 0) return std::nullopt;
    return location;
  }

 private:
  // The compilation unit holding `address`, by a walk of every unit: libdw finds units through
  // .debug_aranges, which clang does not write, and does not fall back on the units' own ranges.
  Dwarf_Die* unit_by_scan(Dwarf_Addr address, Dwarf_Die& unit, Dwarf_Addr& bias) {
    Dwarf* dwarf = dwfl_module_getdwarf(module_, &bias);
    if (dwarf == nullptr) return nullptr;
    Dwarf_Off offset = 0;
    Dwarf_Off next = 0;
    std::size_t header_size = 0;
    while (dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
      if (dwarf_offdie(dwarf, offset + header_size, &unit) != nullptr && dwarf_haspc(&unit, address - bias) > 0) return &unit;
      offset = next;
    }
    return nullptr;
  }

  Dwfl* dwfl_;
  Dwfl_Module* module_ = nullptr;
  GElf_Addr bias_ = 0;
};

OfflineSymbolizer::OfflineSymbolizer(DebugFileFinder& finder) : finder_(finder) {}
OfflineSymbolizer::~OfflineSymbolizer() = default;

OfflineSymbolization OfflineSymbolizer::name_frames(Snapshot& snapshot) {
  OfflineSymbolization result;
  std::map<std::string, std::unique_ptr<DebugFileReader>>& readers = readers_;
  std::map<std::pair<std::string, std::uint64_t>, std::optional<Location>> located;
  std::set<std::string> missing;
  for (Traceback& traceback : snapshot.tracebacks) {
    for (Frame& frame : traceback.frames) {
      if (frame.build_id.empty() || frame.lineno != 0) continue;
      auto [reader, first_time] = readers.try_emplace(frame.build_id);
      if (first_time) {
        if (const std::optional<DebugFile> file = finder_.find(frame.build_id, frame.module)) {
          auto opened = std::make_unique<DebugFileReader>(file->path);
          if (opened->usable()) reader->second = std::move(opened);
          if (file->origin == DebugFileOrigin::Debuginfod) ++result.from_debuginfod;
        }
        if (reader->second == nullptr && missing.insert(frame.module).second) result.modules_without_debug_file.push_back(frame.module);
      }
      auto [found, new_offset] = located.try_emplace({frame.build_id, frame.offset});
      if (new_offset) {
        if (reader->second != nullptr) found->second = reader->second->locate(frame.offset);
        ++(found->second ? result.frames_named : result.frames_left);
      }
      if (!found->second) continue;
      const Location& location = *found->second;
      if (!location.function.empty()) frame.function = location.function;
      if (location.lineno != 0) {
        frame.filename = location.filename;
        frame.lineno = location.lineno;
      }
    }
  }
  return result;
}

}  // namespace heapsnap
