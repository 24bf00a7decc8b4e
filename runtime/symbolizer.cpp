#include "runtime/symbolizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <link.h>

#include <backtrace.h>  // libbacktrace, as bundled in libboost_stacktrace_backtrace
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/elf_symbols.h"
#include "snapshot/function_name.h"

namespace heapsnap {
namespace {

struct InlineChain {
  std::vector<Frame>* frames;
  std::uintptr_t address;
  std::unordered_map<std::string, std::string>* source_paths;  // the symbolizer's, by DWARF's path
};

// Each distinct path DWARF gives is repaired once: source_file_path may look at the file system.
const std::string& repaired_path(std::unordered_map<std::string, std::string>& paths, const char* dwarf_path) {
  auto [it, inserted] = paths.try_emplace(dwarf_path);
  if (inserted) it->second = source_file_path(dwarf_path);
  return it->second;
}

// libbacktrace calls this once per frame of the inline chain, innermost first.
int on_source_location(void* data, std::uintptr_t, const char* filename, int lineno, const char* function) {
  auto* chain = static_cast<InlineChain*>(data);
  if (filename == nullptr && function == nullptr) return 0;
  Frame frame;
  frame.address = chain->address;
  frame.filename = filename != nullptr ? repaired_path(*chain->source_paths, filename) : "";
  frame.lineno = lineno > 0 ? static_cast<std::uint32_t>(lineno) : 0;
  frame.function = function != nullptr ? demangled_function_name(function) : "";
  chain->frames->push_back(std::move(frame));
  return 0;
}

void on_error(void*, const char*, int) {}  // no debug info: the symbol tables below answer

// libbacktrace's symbol-table answer, for a module with symbols but no line information.
void on_symbol(void* data, std::uintptr_t, const char* symbol, std::uintptr_t, std::uintptr_t) {
  if (symbol != nullptr) *static_cast<std::string*>(data) = demangled_function_name(symbol);
}

Frame named_frame(std::string function, std::uintptr_t address) {
  Frame frame;
  frame.function = std::move(function);
  frame.address = address;
  return frame;
}

}  // namespace

const Symbolizer::ModuleReader& Symbolizer::reader_for(const LoadedModule& module) {
  if (!module_visibility_works()) {
    // libbacktrace will see every module whatever we do: one state that reads them all, once.
    static ::backtrace_state* const every_module = ::backtrace_create_state(nullptr, /*threaded=*/1, on_error, nullptr);
    static ModuleReader whole_process;
    whole_process.state = every_module;
    return whole_process;
  }
  auto [it, inserted] = readers_.try_emplace({module.load_bias, module.name});
  ModuleReader& reader = it->second;
  if (!inserted) return reader;
  reader.module = module;
  const char* path = module.name.empty() ? "/proc/self/exe" : module.name.c_str();
  if (carries_own_symbols(path)) {
    // libbacktrace keeps the file name and reads the module on the first lookup; until then nothing
    // is parsed. The key's string is stable for as long as the map node lives.
    const char* file = it->first.second.empty() ? nullptr : it->first.second.c_str();
    reader.state = ::backtrace_create_state(file, /*threaded=*/1, on_error, nullptr);
  }
  return reader;
}

const Symbolizer::ModuleFile& Symbolizer::module_file(const LoadedModule& module, std::uintptr_t address) {
  auto [it, inserted] = files_.try_emplace({module.load_bias, module.name});
  if (inserted) {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(address), &info) != 0 && info.dli_fname != nullptr) {
      it->second.path = info.dli_fname;
      it->second.start = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    }
    it->second.build_id = loaded_build_id(module.load_bias);
  }
  return it->second;
}

// dladdr scans a module's whole dynamic symbol table per call; the index reads and sorts it once
// (libc's: about 1.6 ms here). A few lookups are cheaper by dladdr, as a short-lived process's exit
// snapshot needs; a big program's thousands of frames in a stripped module (cc1plus exports 31k
// symbols) are not.
constexpr unsigned kIndexAfterLookups = 32;

const char* Symbolizer::dynamic_symbol_name(const LoadedModule& module, std::uintptr_t call_site) {
  DynamicNames& names = dynamic_names_[{module.load_bias, module.name}];
  if (!names.indexed && names.lookups == kIndexAfterLookups) {
    names.index = DynamicSymbols::of_file(module.name.empty() ? "/proc/self/exe" : module.name.c_str());
    names.indexed = true;
  }
  if (names.indexed) return names.index.name_at(call_site - module.load_bias);
  ++names.lookups;
  Dl_info info{};
  void* symbol_entry = nullptr;
  if (dladdr1(reinterpret_cast<void*>(call_site), &info, &symbol_entry, RTLD_DL_SYMENT) == 0) return nullptr;
  const auto* symbol = static_cast<const ElfW(Sym)*>(symbol_entry);
  // The nearest dynamic symbol names the frame only when the address is inside it: a static
  // function of a stripped library is not its exported neighbour.
  const auto symbol_start = reinterpret_cast<std::uintptr_t>(info.dli_saddr);
  if (info.dli_sname == nullptr || symbol == nullptr || (symbol->st_size != 0 && call_site - symbol_start >= symbol->st_size))
    return nullptr;
  return info.dli_sname;
}

std::string source_file_path(const char* dwarf_path) {
  const std::string_view path = dwarf_path;
  const std::size_t doubled = path.find("//");
  if (doubled == std::string_view::npos) return std::string(path);
  const std::string absolute(path.substr(doubled + 1));
  if (::access(dwarf_path, F_OK) != 0 && ::access(absolute.c_str(), F_OK) == 0) return absolute;
  return std::string(path);
}

const std::vector<Frame>& Symbolizer::frames_for(std::uintptr_t return_address, DebugInfo debug_info) {
  auto [it, inserted] = cache_.try_emplace(return_address);
  CachedFrames& cached = it->second;
  std::vector<Frame>& frames = cached.frames;
  if (!inserted && (cached.complete || debug_info == DebugInfo::OnlyRead)) return frames;
  frames.clear();
  // Decrement by one: a return address can belong to the next line (or function) after the call.
  const std::uintptr_t call_site = return_address - 1;

  LoadedModule module;
  const bool in_a_module = module_containing(call_site, module);
  const bool may_read = debug_info == DebugInfo::Read ||
                        (module_visibility_works() && readers_.contains({module.load_bias, module.name}));
  cached.complete = may_read;
  if (in_a_module && may_read) {
    const ModuleReader& reader = reader_for(module);
    if (reader.state != nullptr) {
      auto look_up = [&] {
        InlineChain chain{&frames, call_site, &source_paths_};
        ::backtrace_pcinfo(reader.state, call_site, on_source_location, on_error, &chain);
        if (frames.empty()) {
          std::string symbol;
          ::backtrace_syminfo(reader.state, call_site, on_symbol, on_error, &symbol);
          if (!symbol.empty()) frames.push_back(named_frame(std::move(symbol), call_site));
        }
      };
      if (module_visibility_works()) {
        const ModuleVisibility only_this_module(reader.module);
        look_up();
      } else {
        look_up();
      }
    }
  }

  // The module's path and start, asked of the loader once per module: dladdr scans the module's whole
  // dynamic symbol table, which for a big program (cc1plus exports 31k symbols) is costly per frame
  // (names come from dynamic_symbol_name, which switches to an index of that table).
  static const ModuleFile kUnknownFile;
  const ModuleFile& file = in_a_module ? module_file(module, call_site) : kUnknownFile;
  const std::uintptr_t module_offset = file.path.empty() ? call_site : call_site - file.start;
  if (frames.empty() && in_a_module) {
    if (const char* name = dynamic_symbol_name(module, call_site)) frames.push_back(named_frame(demangled_function_name(name), call_site));
  }
  const std::string& module_path = file.path;
  if (frames.empty()) frames.push_back(named_frame("", call_site));
  for (Frame& frame : frames) {
    frame.module = module_path;
    if (frame.lineno == 0 && !file.build_id.empty()) {  // for `heapsnap symbolize`, later or elsewhere
      frame.build_id = file.build_id;
      frame.offset = call_site - module.load_bias;
    }
    if (frame.filename.empty()) frame.filename = module_path.empty() ? "<unknown>" : module_path;
    if (frame.function.empty()) {
      // Module-relative, so the same unsymbolized site compares equal across runs despite ASLR.
      char hex[2 + 16 + 1];
      std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(module_offset));
      frame.function = hex;
    }
  }
  return frames;
}

}  // namespace heapsnap
