#include "reporters/leaks/leak_report_text.h"

#include <algorithm>
#include <string>

#include "reporters/frame_format.h"
#include "reporters/leaks/cycle_format.h"
#include "snapshot/format_size.h"

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

std::string more_than_baseline(const LeakedCycles& leaked) {
  if (!leaked.baseline) return {};
  if (*leaked.baseline == 0) return "new: ";
  return "grew by " + std::to_string(leaked.counted()) + " (baseline: " + std::to_string(*leaked.baseline) + "): ";
}

void write_site(std::ostream& out, std::size_t number, const LeakSite& site) {
  out << "\n#" << number << ": " << describe_kind(site.kind) << ": " << describe_amount(site) << "\n";
  write_stack(out, site.traceback, "    ");
}

std::string describe_suppressed(const SuppressedAmount& amount) {
  // Cycle members are among the blocks: "288 B in 6 blocks, 3 cycles".
  std::string text = format_size(amount.bytes) + " in " + blocks(amount.blocks);
  if (amount.cycles == 0) return text;
  return text + ", " + std::to_string(amount.cycles) + (amount.cycles == 1 ? " cycle" : " cycles");
}

// What each rule matched, in the order the rules were tried.
void write_suppressions(std::ostream& out, const AppliedSuppressions& applied) {
  out << "\nSuppressions:\n";
  if (applied.list.rules.empty()) out << "  (no rules)\n";
  for (std::size_t i = 0; i < applied.list.rules.size(); ++i) {
    const SuppressionRule& rule = applied.list.rules[i];
    const SuppressedAmount& amount = applied.matched[i];
    out << "  " << rule.file << ":" << rule.line << ": ";
    if (rule.frames.empty()) out << suppression_kind_name(rule.kind) << ":";  // a Valgrind rule shows its {name}
    out << rule.pattern << ": " << (amount.empty() ? "matched nothing" : describe_suppressed(amount)) << "\n";
  }
}

void write_more(std::ostream& out, std::size_t more, std::string_view one, std::string_view many) {
  if (more > 0) out << "\n... and " << more << " more " << (more == 1 ? one : many) << " (--format json lists all)\n";
}

}  // namespace

LeakReportTextReporter::LeakReportTextReporter(LeakReport report, std::size_t sites_shown, bool colour)
    : report_(std::move(report)), sites_shown_(sites_shown), colour_(colour) {}

void LeakReportTextReporter::render(std::ostream& out) const {
  render_leaks(out);
  if (!report_.suppressions.list.files.empty()) write_suppressions(out, report_.suppressions);
}

void LeakReportTextReporter::render_leaks(std::ostream& out) const {
  const LeakTotals& totals = report_.totals;
  const GateThresholds& limits = report_.thresholds;
  const char* verdict = report_.gate.passed ? "PASSED" : "FAILED";
  if (colour_) {
    out << "heapsnap check: " << (report_.gate.passed ? "\033[1;32m" : "\033[1;31m") << verdict << "\033[0m\n";
  } else {
    out << "heapsnap check: " << verdict << "\n";
  }
  for (const std::string& reason : report_.gate.reasons) out << "  " << reason << "\n";
  if (report_.gate.passed) {
    out << "  " << blocks(totals.count) << " (" << format_size(totals.size) << ") within --max-leaked-blocks "
        << limits.max_leaked_blocks << " and --max-leaked-bytes " << limits.max_leaked_bytes;
    if (limits.max_cycles) {
      out << ", " << totals.cycles << (totals.cycles == 1 ? " cycle" : " cycles") << " within --max-cycles "
          << *limits.max_cycles;
    }
    out << "\n";
  }
  out << "\nSnapshot: " << report_.snapshot_path << "\n";
  out << (report_.leak_analysis ? "Leak analysis: yes, unreachable blocks are leaks\n"
                                : "Leak analysis: no, every block still allocated counts as leaked\n");
  if (report_.thread_stop) {
    if (const std::optional<std::string> warning = incomplete_verdict_warning(*report_.thread_stop)) out << "Note: " << *warning << "\n";
  }
  if (report_.baseline_path) out << "Baseline: " << *report_.baseline_path << " (only growth since it counts)\n";
  if (const BeforeTracing& before = report_.before_tracing; before.count > 0) {
    out << "Allocated before tracing started: " << format_size(before.size) << " in " << blocks(before.count);
    if (report_.leak_analysis) out << ", of which " << format_size(before.unreachable_size) << " in " << blocks(before.unreachable_count) << " unreachable";
    out << " (no stack: not counted by the gate)\n";
  }
  // Bad frees first: each is a bug in the program, whatever the leaks are.
  for (std::size_t i = 0; i < report_.free_errors.size(); ++i) {
    const BadFreeReport& error = report_.free_errors[i];
    out << "\nBad free #" << i + 1 << ": "
        << (error.kind == FreeErrorKind::DoubleFree ? "double free" : "free of a pointer that was not allocated")
        << (error.count == 1 ? "" : " (" + std::to_string(error.count) + " times)") << "\n";
    out << "  freed at\n";
    write_stack(out, error.freed_at, "    ");
    if (error.allocated_at) {
      out << "  the block was allocated at\n";
      write_stack(out, *error.allocated_at, "    ");
    }
  }
  if (const AppliedSuppressions& applied = report_.suppressions; !applied.list.files.empty()) {
    std::size_t used = 0;
    for (const SuppressedAmount& amount : applied.matched) used += amount.empty() ? 0 : 1;
    const std::size_t rules = applied.list.rules.size();
    out << "Suppressed: " << describe_suppressed(applied.total()) << " by " << used << " of " << rules
        << (rules == 1 ? " rule" : " rules") << " (listed at the end)\n";
  }
  if (totals.sites == 0 && report_.cycles.empty()) {
    out << (report_.baseline_path ? "No new or grown leaks.\n" : "No leaks.\n");
    return;
  }
  out << "Leaked: " << format_size(totals.size) << " in " << blocks(totals.count) << " at " << totals.sites
      << (totals.sites == 1 ? " site" : " sites") << "\n";

  // Cycles first, one shape at a time; their members' sites are then left out of the site list.
  if (!report_.cycles.empty()) {
    CycleTotals all;
    for (const LeakedCycles& leaked : report_.cycles) all.add(leaked.shape);
    out << "Leaked cycles: " << totals.cycles << (report_.baseline_path ? " more than in the baseline" : "") << ", "
        << report_.cycles.size() << (report_.cycles.size() == 1 ? " shape" : " shapes") << " ("
        << format_size(all.bytes) << " in " << blocks(all.blocks) << ")\n";
    const std::size_t shown = std::min<std::size_t>(sites_shown_, report_.cycles.size());
    for (std::size_t i = 0; i < shown; ++i) {
      out << "\n" << more_than_baseline(report_.cycles[i]) << describe_shape(report_.cycles[i].shape) << "\n";
      write_shape_members(out, report_.cycles[i].shape, "    ");
    }
    write_more(out, report_.cycles.size() - shown, "shape", "shapes");
  }

  std::vector<const LeakSite*> sites;
  for (const LeakSite& site : report_.leaks) {
    if (report_.cycles.empty() || site.kind != LeakKind::Cycle) sites.push_back(&site);
  }
  if (!report_.cycles.empty()) {
    LeakAmount outside;
    for (const LeakSite* site : sites) {
      outside.size += site->size;
      outside.count += site->count;
    }
    out << "\nLeaks outside cycles: " << format_size(outside.size) << " in " << blocks(outside.count) << " at "
        << sites.size() << (sites.size() == 1 ? " site" : " sites") << "\n";
  }
  const std::size_t shown = std::min<std::size_t>(sites_shown_, sites.size());
  for (std::size_t i = 0; i < shown; ++i) write_site(out, i + 1, *sites[i]);
  write_more(out, sites.size() - shown, "site", "sites");
}

}  // namespace heapsnap
