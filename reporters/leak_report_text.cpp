#include "reporters/leak_report_text.h"

#include <algorithm>
#include <string>

#include "profiler/format_size.h"
#include "reporters/frame_format.h"

namespace heapsnap {
namespace {

std::string blocks(std::uint64_t count) { return std::to_string(count) + (count == 1 ? " block" : " blocks"); }

std::string describe_kind(LeakKind kind) {
  switch (kind) {
    case LeakKind::Direct: return "direct leak";
    case LeakKind::Indirect: return "indirect leak";
    case LeakKind::Cycle: return "leaked cycle";
    case LeakKind::Allocated: return "still allocated";
  }
  return "leak";
}

std::string describe_amount(const LeakSite& site) {
  const std::string amount = format_size(site.size) + " in " + blocks(site.count);
  if (!site.baseline) return amount;
  if (site.baseline->count == 0 && site.baseline->size == 0) return "new, " + amount;
  return "grew by " + amount + " (baseline: " + format_size(site.baseline->size) + " in " +
         blocks(site.baseline->count) + ")";
}

}  // namespace

LeakReportTextReporter::LeakReportTextReporter(LeakReport report, std::size_t sites_shown)
    : report_(std::move(report)), sites_shown_(sites_shown) {}

void LeakReportTextReporter::render(std::ostream& out) const {
  const LeakTotals& totals = report_.totals;
  const GateThresholds& limits = report_.thresholds;
  out << "heapsnap check: " << (report_.gate.passed ? "PASSED" : "FAILED") << "\n";
  for (const std::string& reason : report_.gate.reasons) out << "  " << reason << "\n";
  if (report_.gate.passed) {
    out << "  " << blocks(totals.count) << " (" << format_size(totals.size) << ") within --max-leaked-blocks "
        << limits.max_leaked_blocks << " and --max-leaked-bytes " << limits.max_leaked_bytes << "\n";
  }
  out << "\nSnapshot: " << report_.snapshot_path << "\n";
  out << (report_.leak_analysis ? "Leak analysis: yes, unreachable blocks are leaks\n"
                                : "Leak analysis: no, every block still allocated counts as leaked\n");
  if (report_.baseline_path) out << "Baseline: " << *report_.baseline_path << " (only growth since it counts)\n";
  if (totals.sites == 0) {
    out << (report_.baseline_path ? "No new or grown leaks.\n" : "No leaks.\n");
    return;
  }
  out << "Leaked: " << format_size(totals.size) << " in " << blocks(totals.count) << " at " << totals.sites
      << (totals.sites == 1 ? " site" : " sites") << "\n";

  const std::size_t shown = std::min<std::size_t>(sites_shown_, report_.leaks.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const LeakSite& site = report_.leaks[i];
    out << "\n#" << (i + 1) << ": " << describe_kind(site.kind) << ": " << describe_amount(site) << "\n";
    const char* prefix = "    at ";
    for (const Frame& frame : site.traceback.frames) {
      out << prefix << format_frame(frame) << "\n";
      prefix = "       ";
    }
    if (site.traceback.frames.empty()) out << prefix << "<unknown>\n";
    if (const std::string note = format_truncation(site.traceback); !note.empty()) out << "       " << note << "\n";
  }
  if (shown < report_.leaks.size()) {
    const std::size_t more = report_.leaks.size() - shown;
    out << "\n... and " << more << (more == 1 ? " more site" : " more sites") << " (--format json lists all)\n";
  }
}

}  // namespace heapsnap
