#include "reporters/leaks/suppression_writer.h"

#include <map>
#include <vector>

#include "snapshot/format_size.h"

namespace heapsnap {
namespace {

std::string_view valgrind_kinds(LeakKind kind) {
  switch (kind) {
    case LeakKind::Direct: return "definite";
    case LeakKind::Indirect: return "indirect";
    case LeakKind::Cycle: return "definite,indirect";  // Valgrind's words for a cycle's blocks
    case LeakKind::Allocated: return "all";
  }
  return "all";
}

// The suppression reader's glob escapes: a name with * or ? in it (operator*) matches only itself.
std::string escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '*' || c == '?' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool has_name(const Frame& frame) { return !frame.function.empty() && !frame.function.starts_with("0x"); }

// One line per frame: its function where it has a name (fun:), else its module (obj:); with
// `by_source`, its file and line (src:) where known, which tells apart sites in the same functions.
std::vector<std::string> frame_lines(const Traceback& traceback, bool by_source) {
  std::vector<std::string> lines;
  for (const Frame& frame : traceback.frames) {
    if (by_source && !frame.filename.empty() && frame.lineno != 0) {
      lines.push_back("src:" + escaped(frame.filename) + ":" + std::to_string(frame.lineno));
    } else if (has_name(frame)) {
      lines.push_back("fun:" + escaped(frame.function));
    } else if (!frame.module.empty()) {
      lines.push_back("obj:" + escaped(frame.module));
    } else {
      lines.push_back("...");
    }
  }
  if (lines.empty()) lines.push_back("...");
  return lines;
}

std::string site_name(const LeakSite& site) {
  std::string name = std::string(leak_kind_name(site.kind)) + " leak of " + format_size(site.size) + " in " +
                     std::to_string(site.count) + (site.count == 1 ? " block" : " blocks");
  if (!site.traceback.frames.empty()) {
    const Frame& top = site.traceback.frames.front();
    if (!top.filename.empty()) name += " at " + top.filename + ":" + std::to_string(top.lineno);
    if (has_name(top)) name += " (" + top.function + ")";
  }
  return name;
}

}  // namespace

std::string generate_suppressions(const LeakReport& report) {
  // Sites whose functions are all alike (the same function leaking at two lines) get src: lines.
  std::map<std::pair<std::string_view, std::vector<std::string>>, int> seen;
  for (const LeakSite& site : report.leaks) ++seen[{valgrind_kinds(site.kind), frame_lines(site.traceback, false)}];
  std::string out = "# heapsnap check --gen-suppressions: " + report.snapshot_path + "\n";
  for (const LeakSite& site : report.leaks) {
    std::vector<std::string> lines = frame_lines(site.traceback, false);
    if (seen[{valgrind_kinds(site.kind), lines}] > 1) lines = frame_lines(site.traceback, true);
    out += "{\n   " + site_name(site) + "\n   Memcheck:Leak\n   match-leak-kinds: " + std::string(valgrind_kinds(site.kind)) + "\n";
    for (const std::string& line : lines) out += "   " + line + "\n";
    out += "}\n";
  }
  return out;
}

}  // namespace heapsnap
