#include "profiler/symbolizer.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <backtrace.h>  // libbacktrace, as bundled in libboost_stacktrace_backtrace
#include <boost/stacktrace/frame.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace heapsnap {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (demangled == nullptr) return name;
  std::string result = demangled;
  std::free(demangled);
  return result;
}

struct InlineChain {
  std::vector<Frame>* frames;
  std::uintptr_t address;
};

// libbacktrace calls this once per frame of the inline chain, innermost first.
int on_source_location(void* data, std::uintptr_t, const char* filename, int lineno, const char* function) {
  auto* chain = static_cast<InlineChain*>(data);
  if (filename == nullptr && function == nullptr) return 0;
  Frame frame;
  frame.address = chain->address;
  frame.filename = filename != nullptr ? filename : "";
  frame.lineno = lineno > 0 ? static_cast<std::uint32_t>(lineno) : 0;
  frame.function = function != nullptr ? demangle(function) : "";
  chain->frames->push_back(std::move(frame));
  return 0;
}

void on_error(void*, const char*, int) {}  // no debug info: the dladdr fallback below answers

// One libbacktrace state for the process (thread-safe mode), made on first use and never freed: it
// caches the parsed debug information of every module.
::backtrace_state* source_locator() {
  static ::backtrace_state* state = ::backtrace_create_state(nullptr, /*threaded=*/1, on_error, nullptr);
  return state;
}

}  // namespace

const std::vector<Frame>& Symbolizer::frames_for(std::uintptr_t return_address) {
  auto [it, inserted] = cache_.try_emplace(return_address);
  std::vector<Frame>& frames = it->second;
  if (!inserted) return frames;
  // Decrement by one: a return address can belong to the next line (or function) after the call.
  const std::uintptr_t call_site = return_address - 1;

  // libbacktrace asked directly: boost::stacktrace::frame keeps only the outermost function of an
  // inline chain.
  if (::backtrace_state* state = source_locator()) {
    InlineChain chain{&frames, call_site};
    ::backtrace_pcinfo(state, call_site, on_source_location, on_error, &chain);
  }

  Dl_info info{};
  std::string module;
  std::uintptr_t module_offset = call_site;
  if (dladdr(reinterpret_cast<void*>(call_site), &info) != 0 && info.dli_fname != nullptr) {
    module = info.dli_fname;
    module_offset = call_site - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  }
  if (frames.empty()) {  // no line info: the symbol name from Boost.Stacktrace, the module as file
    Frame frame;
    frame.address = call_site;
    frame.function = boost::stacktrace::frame(reinterpret_cast<boost::stacktrace::frame::native_frame_ptr_t>(call_site)).name();
    frames.push_back(std::move(frame));
  }
  for (Frame& frame : frames) {
    frame.module = module;
    if (frame.filename.empty()) frame.filename = module.empty() ? "<unknown>" : module;
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
