#include "snapshot/valgrind_stack_match.h"

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "snapshot/function_name.h"

namespace heapsnap {
namespace {

// What Valgrind shows as the allocation site's own frame: the C and C++ allocation functions, mangled
// as Valgrind prints them and demangled.
constexpr std::array<std::string_view, 22> kAllocationFunctions = {
    "malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign", "aligned_alloc", "valloc",
    "pvalloc", "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
    "operator new(unsigned long)", "operator new[](unsigned long)", "operator new", "operator new[]", "strdup"};

bool has_glob_characters(std::string_view pattern) { return pattern.find_first_of("*?\\") != std::string_view::npos; }

bool line_matches(const FramePattern& line, const Frame& frame) {
  switch (line.field) {
    case FramePattern::Field::Function: {
      if (frame.function.empty()) return false;
      if (line.pattern.starts_with("_Z") && !has_glob_characters(line.pattern)) {
        // Valgrind writes mangled names; a frame's name is demangled, with or without its parameters.
        const std::string name = demangled_function_name(line.pattern.c_str());
        return frame.function == name || short_function_name(frame.function) == short_function_name(name);
      }
      return line.glob.matches(frame.function) || line.glob.matches(short_function_name(frame.function));
    }
    case FramePattern::Field::Object: return matches_path(line.glob, frame.module);
    case FramePattern::Field::Source:
      return matches_path(line.glob, frame.filename) ||
             (frame.lineno != 0 && matches_path(line.glob, frame.filename, ":" + std::to_string(frame.lineno)));
    case FramePattern::Field::AnyFrames: return true;
  }
  return false;
}

bool names_allocation_function(const FramePattern& line) {
  if (line.field == FramePattern::Field::Object) {  // Valgrind's allocator, where Debian and upstream install it
    return matches_path(line.glob, "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so") ||
           matches_path(line.glob, "/usr/lib/x86_64-linux-gnu/valgrind/vgpreload_memcheck-amd64-linux.so");
  }
  if (line.field != FramePattern::Field::Function) return false;
  for (const std::string_view name : kAllocationFunctions)
    if (line.pattern == name || line.glob.matches(name)) return true;
  return false;
}

// Lines [line, end) against frames [frame, end), with a table of what was already found not to match.
class StackMatcher {
 public:
  StackMatcher(const std::vector<FramePattern>& lines, const std::vector<Frame>& frames)
      : lines_(lines), frames_(frames), failed_((lines.size() + 1) * (frames.size() + 1), false) {}

  bool matches(std::size_t line, std::size_t frame) {
    if (line == lines_.size()) return true;
    std::vector<bool>::reference failed = failed_[line * (frames_.size() + 1) + frame];
    if (failed) return false;
    bool result = false;
    if (lines_[line].field == FramePattern::Field::AnyFrames) {
      result = matches(line + 1, frame) || (frame < frames_.size() && matches(line, frame + 1));
    } else {
      result = frame < frames_.size() && line_matches(lines_[line], frames_[frame]) && matches(line + 1, frame + 1);
    }
    if (!result) failed = true;
    return result;
  }

 private:
  const std::vector<FramePattern>& lines_;
  const std::vector<Frame>& frames_;
  std::vector<bool> failed_;
};

}  // namespace

bool stack_matches(const SuppressionRule& rule, const Traceback& traceback) {
  if (rule.frames.empty()) return false;
  StackMatcher matcher(rule.frames, traceback.frames);
  if (matcher.matches(0, 0)) return true;
  return names_allocation_function(rule.frames.front()) && matcher.matches(1, 0);
}

}  // namespace heapsnap
