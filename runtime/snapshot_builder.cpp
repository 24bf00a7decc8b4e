#include "runtime/snapshot_builder.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "runtime/domain_tracker.h"
#include "runtime/free_errors.h"
#include "runtime/proc_file.h"
#include "runtime/recursion_guard.h"
#include "runtime/site_counters.h"
#include "runtime/symbolizer.h"
#include "runtime/trace_table.h"
#include "runtime/tracing.h"

namespace heapsnap {
namespace {

std::mutex g_snapshot_mutex;  // one builder at a time: the symbolizer cache is not thread-safe

Symbolizer& symbolizer() {
  static Symbolizer* instance = new Symbolizer();  // never destroyed: snapshots are taken during exit
  return *instance;
}

using tracing::is_traced;

// Sums as doubles: in sampling mode a block stands for an estimated (fractional) number of blocks.
struct Aggregate {
  double size = 0;
  double count = 0;

  void add(std::size_t requested) {
    const double weight = tracing::sample_weight(requested);
    size += weight;
    count += requested == 0 ? 1.0 : weight / static_cast<double>(requested);
  }
};
struct AggregateKey {
  DomainId domain;
  std::uint32_t site;
  Reachability reachability;
  auto operator<=>(const AggregateKey&) const = default;
};

// True for frames in the C++ standard library's headers (std::allocator, vector growth, ...).
bool in_standard_library(const Frame& frame) {
  return frame.filename.find("/include/c++/") != std::string::npos;
}

// Code of heapsnap's that runs between the program's own frames (the wrapper main runs in, see
// exit_interpose.cpp) is placed in this section: the program never called it, so its stacks do not
// show it. Weak: only the preload library has the section.
extern "C" [[gnu::weak]] const char __start_heapsnap_hidden_frames[];
extern "C" [[gnu::weak]] const char __stop_heapsnap_hidden_frames[];

bool in_hidden_frame(std::uintptr_t pc) {
  const auto begin = reinterpret_cast<std::uintptr_t>(__start_heapsnap_hidden_frames);
  const auto end = reinterpret_cast<std::uintptr_t>(__stop_heapsnap_hidden_frames);
  return pc > begin && pc <= end;  // a return address: just past its call
}

// Inlined calls expand one return address into several frames. Leading frames inside the standard
// library's allocation plumbing are folded away, so that the most recent frame, which `lineno`
// statistics and leak sites are keyed by, is the program's own line (the vector's push_back, not
// new_allocator.h). The traceback keeps at most the capture limit; total_nframe counts every frame.
Traceback symbolize(const TraceRecord& record, std::uint32_t limit, Symbolizer::DebugInfo debug_info = Symbolizer::DebugInfo::Read) {
  // The symbolizer's cached frames, pointed at: each kept frame is copied once, into the traceback. (A
  // lookup changes no other address's frames, nor those of one already looked up with this DebugInfo.)
  std::vector<const Frame*> frames;
  std::uint32_t hidden = 0;
  for (std::uint32_t i = 0; i < record.depth; ++i) {
    if (in_hidden_frame(record.frames[i])) {
      ++hidden;
      continue;
    }
    for (const Frame& frame : symbolizer().frames_for(record.frames[i], debug_info)) frames.push_back(&frame);
  }
  Traceback traceback;
  auto first = frames.begin();
  while (first != frames.end() && in_standard_library(**first)) ++first;
  if (first == frames.end()) first = frames.begin();  // nothing but library frames: keep them all
  // Folded frames are not "older frames not captured": the stack's length leaves them out.
  const auto folded = static_cast<std::uint32_t>(first - frames.begin());
  traceback.total_nframe = record.total + static_cast<std::uint32_t>(frames.size()) - record.depth - folded;
  traceback.total_nframe -= hidden;
  const auto kept = std::min<std::size_t>(limit, static_cast<std::size_t>(frames.end() - first));
  traceback.frames.reserve(kept);
  for (std::size_t i = 0; i < kept; ++i) traceback.frames.push_back(*first[static_cast<std::ptrdiff_t>(i)]);
  return traceback;
}

ProcessInfo current_process(const std::string& reason) {
  ProcessInfo info;
  info.pid = getpid();
  info.reason = reason;
  info.unix_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for_each_piece(read_proc_file("/proc/self/cmdline").value_or(""), '\0',
                 [&](std::string_view argument) { info.argv.emplace_back(argument); });
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) info.executable.assign(exe, static_cast<std::size_t>(n));
  return info;
}

// What each site allocated since tracing started, and held in the peak view (site_counters.h), merged
// as the traces are: sites that symbolize to one traceback are one. Not in sampling mode, where only
// sampled allocations are seen: calls and temporaries would be counts of samples.
//
// A traceback costs a symbolization and a copy of its frames, so not every site gets one: those with
// live blocks have theirs already (the traces'), and of the others the kActivitySitesPerMeasure
// biggest by each measure get one. What the rest did is summed into one entry, <other allocation
// sites>, so that totals stay whole. (cc1plus makes 24k sites, 5k of them live at exit: a traceback
// for each doubled its exit's time and memory.)
constexpr std::size_t kActivitySitesPerMeasure = 256;

template <typename TracebackOf, typename HasTraceback>
void add_activity(Snapshot& snapshot, PeakWindow peak_window, TracebackOf&& traceback_index, HasTraceback&& has_traceback) {
  if (snapshot.sampling_rate != 0) return;
  std::vector<site_counters::SiteActivity> activity;
  if (!site_counters::activity_by_site(activity)) return;
  const auto window = peak_window == PeakWindow::SincePreviousSnapshot ? site_counters::PeakWindow::SincePrevious
                                                                        : site_counters::PeakWindow::Whole;
  // Now is at least as close to a peak as its last view (a program that ends at its peak, a growing
  // one): now is that view, exact when the total is the peak.
  const auto now = static_cast<std::int64_t>(snapshot.traced_current);
  site_counters::capture_peak_view(now >= site_counters::peak_view_total(site_counters::PeakWindow::SincePrevious),
                                   now >= site_counters::peak_view_total(site_counters::PeakWindow::Whole));
  const site_counters::PeakView view = site_counters::peak_view(window);
  std::unordered_map<std::uint32_t, std::uint64_t> peak_bytes, peak_blocks;
  for (const site_counters::SiteTotal& site : view.sites) {
    peak_bytes[static_cast<std::uint32_t>(site.site)] += static_cast<std::uint64_t>(site.bytes);
    peak_blocks[static_cast<std::uint32_t>(site.site)] += static_cast<std::uint64_t>(site.blocks);
  }
  const auto peak_of = [&](const site_counters::SiteActivity& site) {
    const auto it = peak_bytes.find(static_cast<std::uint32_t>(site.site));
    return it == peak_bytes.end() ? std::uint64_t{0} : it->second;
  };

  // The sites that get a traceback of their own: the live ones, and the biggest by each measure.
  std::unordered_set<std::uint32_t> own;
  for (const site_counters::SiteActivity& site : activity)
    if (has_traceback(static_cast<std::uint32_t>(site.site))) own.insert(static_cast<std::uint32_t>(site.site));
  const std::function<std::uint64_t(const site_counters::SiteActivity&)> measures[] = {
      [](const site_counters::SiteActivity& a) { return a.calls; },
      [](const site_counters::SiteActivity& a) { return a.allocated_bytes; },
      [](const site_counters::SiteActivity& a) { return a.temporary; }, peak_of};
  std::vector<const site_counters::SiteActivity*> ranked(activity.size());
  for (const auto& measure : measures) {
    for (std::size_t i = 0; i < activity.size(); ++i) ranked[i] = &activity[i];
    const std::size_t keep = std::min(kActivitySitesPerMeasure, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end(),
                      [&](const auto* a, const auto* b) { return measure(*a) > measure(*b); });
    for (std::size_t i = 0; i < keep && measure(*ranked[i]) > 0; ++i) own.insert(static_cast<std::uint32_t>(ranked[i]->site));
  }

  std::map<std::uint32_t, SiteActivity> by_traceback;
  SiteActivity others;
  bool any_others = false;
  for (const site_counters::SiteActivity& site : activity) {
    const auto tag = static_cast<std::uint32_t>(site.site);
    const bool has_own = own.contains(tag);
    // A site without live blocks is named from what is read already (Symbolizer::DebugInfo): the
    // reading commands name the rest of its frames from the debug files.
    SiteActivity& entry =
        has_own ? by_traceback[static_cast<std::uint32_t>(traceback_index(tag, Symbolizer::DebugInfo::OnlyRead))] : others;
    any_others |= !has_own;
    entry.calls += site.calls;
    entry.allocated_size += site.allocated_bytes;
    entry.temporary += site.temporary;
    entry.peak_size += peak_of(site);
    if (const auto it = peak_blocks.find(tag); it != peak_blocks.end()) entry.peak_count += it->second;
  }
  for (auto& [traceback, entry] : by_traceback) {
    entry.traceback = TracebackIndex{traceback};
    snapshot.activity.push_back(entry);
  }
  if (any_others) {
    Frame frame;
    frame.filename = "<other allocation sites>";
    others.traceback = static_cast<TracebackIndex>(snapshot.tracebacks.size());
    snapshot.tracebacks.push_back(Traceback{{frame}, 1});
    snapshot.activity.push_back(others);
  }
  snapshot.peak_view = PeakView{static_cast<std::uint64_t>(std::max<std::int64_t>(view.total, 0)),
                                peak_window == PeakWindow::SincePreviousSnapshot};
}

// Orders a snapshot's tracebacks by their frames, in place, and looks one up by frames alone: a set of
// them keyed by a copy of their frames would copy every frame once more.
struct TracebackOrder {
  using is_transparent = void;
  const std::vector<Traceback>* tracebacks;
  const std::vector<Frame>& frames(TracebackIndex index) const { return (*tracebacks)[static_cast<std::uint32_t>(index)].frames; }
  const std::vector<Frame>& frames(const std::vector<Frame>& frames) const { return frames; }
  bool operator()(const auto& a, const auto& b) const { return frames(a) < frames(b); }
};

}  // namespace

Snapshot build_snapshot(const std::string& reason, const LeakFindings* findings, LiveBlockSource source,
                        bool with_memory_before_tracing, PeakWindow peak_window) {
  RecursionGuard guard;  // everything allocated while building is heapsnap's own, untraced
  std::lock_guard lock(g_snapshot_mutex);
  Snapshot snapshot;
  const auto traced = tracing::counters();
  snapshot.traced_current = traced.current;
  snapshot.traced_peak = traced.peak;
  snapshot.allocation_calls = site_counters::allocation_calls();
  snapshot.traceback_limit = tracing::g_depth.load();
  snapshot.leak_analysis = findings != nullptr;
  snapshot.sampling_rate = tracing::g_sample_bytes.load();
  static const BlockClassifier kNoClassifier;
  const BlockClassifier& classify = findings != nullptr ? findings->classify : kNoClassifier;
  snapshot.process = current_process(reason);

  struct WalkState {
    std::map<AggregateKey, Aggregate> aggregates;
    const BlockClassifier* classify;
    bool with_memory_before_tracing;
  } state{{}, &classify, with_memory_before_tracing};
  std::vector<site_counters::SiteTotal> site_totals;
  const bool from_counters = source == LiveBlockSource::SiteCounters && findings == nullptr &&
                             snapshot.sampling_rate == 0 && site_counters::live_by_site(site_totals);
  for (const site_counters::SiteTotal& total : site_totals) {
    Aggregate& aggregate = state.aggregates[{kDefaultDomain, static_cast<std::uint32_t>(total.site), Reachability::NotAnalyzed}];
    aggregate.size = static_cast<double>(total.bytes);
    aggregate.count = static_cast<double>(total.blocks);
  }
  // Blocks this walk allocates are untraced, so the visitor skips them whether it sees them or not.
  if (!from_counters) alloc::walk_heap(
      [](void* context, const alloc::BlockInfo& block) {
        auto& s = *static_cast<WalkState*>(context);
        if (!is_traced(block.site) && !(block.site == alloc::SiteTag::NotTracing && s.with_memory_before_tracing)) return;
        const Reachability reachability = *s.classify ? (*s.classify)(block) : Reachability::NotAnalyzed;
        s.aggregates[{kDefaultDomain, static_cast<std::uint32_t>(block.site), reachability}].add(block.requested);
      },
      &state);
  for (const TrackedBlock& block : tracked_blocks()) {  // memory of other domains: not ours to classify
    state.aggregates[{block.domain, static_cast<std::uint32_t>(block.site), Reachability::NotAnalyzed}].add(block.size);
  }

  // Distinct raw stacks can symbolize to the same traceback (an unrolled loop calls from several
  // addresses on one line): merge them so that each traceback, and each trace, appears once.
  std::unordered_map<std::uint32_t, TracebackIndex> index_of_site;
  std::set<TracebackIndex, TracebackOrder> index_of_traceback(TracebackOrder{&snapshot.tracebacks});
  auto traceback_index = [&](std::uint32_t site, Symbolizer::DebugInfo debug_info = Symbolizer::DebugInfo::Read) {
    auto [it, inserted] = index_of_site.try_emplace(site, TracebackIndex{});
    if (inserted) {
      const TraceRecord* record = trace_record(static_cast<alloc::SiteTag>(site));
      Traceback traceback = record != nullptr ? symbolize(*record, snapshot.traceback_limit, debug_info) : Traceback{};
      if (static_cast<alloc::SiteTag>(site) == alloc::SiteTag::NotTracing) {
        Frame before;
        before.filename = "<allocated before tracing started>";
        traceback.frames = {before};
        traceback.total_nframe = 1;
      }
      if (const auto known = index_of_traceback.find(traceback.frames); known != index_of_traceback.end()) {
        it->second = *known;
      } else {
        it->second = static_cast<TracebackIndex>(snapshot.tracebacks.size());
        snapshot.tracebacks.push_back(std::move(traceback));
        index_of_traceback.insert(it->second);
      }
    }
    return it->second;
  };
  std::map<std::tuple<DomainId, std::uint32_t, Reachability>, std::size_t> trace_of;
  for (const auto& [key, aggregate] : state.aggregates) {
    const auto [domain, site, reachability] = key;
    const TracebackIndex traceback = traceback_index(site);
    auto [trace, is_new_trace] =
        trace_of.try_emplace({domain, static_cast<std::uint32_t>(traceback), reachability}, snapshot.traces.size());
    if (is_new_trace) {
      snapshot.traces.push_back({domain, traceback, 0, 0, reachability});
      snapshot.traces.back().before_tracing = static_cast<alloc::SiteTag>(site) == alloc::SiteTag::NotTracing;
    }
    snapshot.traces[trace->second].size += static_cast<std::uint64_t>(std::llround(aggregate.size));
    snapshot.traces[trace->second].count += static_cast<std::uint64_t>(std::llround(aggregate.count));
  }
  add_activity(snapshot, peak_window, traceback_index, [&](std::uint32_t site) { return index_of_site.contains(site); });
  if (findings != nullptr) {
    snapshot.thread_stop = findings->thread_stop;
    for (const BlockCycle& found : findings->cycles) {
      Cycle cycle;
      cycle.reachable = found.reachable;
      cycle.edges = found.edges;
      for (const alloc::BlockInfo& member : found.members) {
        cycle.members.push_back({reinterpret_cast<std::uintptr_t>(member.address), member.requested,
                                 traceback_index(static_cast<std::uint32_t>(member.site))});
        cycle.bytes += member.requested;
      }
      snapshot.cycles.push_back(std::move(cycle));
    }
  }
  for (const FreeErrorRecord& record : free_error_records()) {
    FreeError error;
    error.kind = record.kind == alloc::BadFreeKind::DoubleFree ? FreeErrorKind::DoubleFree : FreeErrorKind::InvalidFree;
    error.freed_at = traceback_index(static_cast<std::uint32_t>(record.freed_at));
    if (is_traced(record.allocated_at)) error.allocated_at = traceback_index(static_cast<std::uint32_t>(record.allocated_at));
    error.count = record.count;
    error.address = record.first_address;
    snapshot.free_errors.push_back(error);
  }
  return snapshot;
}

std::optional<Traceback> traceback_of_block(const void* p) {
  RecursionGuard guard;
  const alloc::BlockInfo block = alloc::find_block(p);
  const TraceRecord* record = trace_record(block.site);
  if (record == nullptr) return std::nullopt;
  std::lock_guard lock(g_snapshot_mutex);
  return symbolize(*record, tracing::g_depth.load());
}

void symbolize_frames_in(std::uintptr_t begin, std::uintptr_t end) noexcept {
  RecursionGuard guard;
  try {
    std::lock_guard lock(g_snapshot_mutex);
    const std::size_t count = interned_trace_count();
    for (std::size_t i = 0; i < count; ++i) {
      const TraceRecord* record =
          trace_record(static_cast<alloc::SiteTag>(static_cast<std::uint32_t>(alloc::SiteTag::FirstTraced) + i));
      if (record == nullptr) continue;
      for (std::uint32_t k = 0; k < record->depth; ++k) {
        // frames_for looks one byte back (the call instruction): a return address at `end` belongs here.
        if (record->frames[k] > begin && record->frames[k] <= end) symbolizer().frames_for(record->frames[k]);
      }
    }
  } catch (...) {  // out of memory: those frames will read as addresses, nothing worse
  }
}

void untrace_all_blocks() noexcept {
  alloc::walk_heap(
      [](void*, const alloc::BlockInfo& block) {
        if (is_traced(block.site)) alloc::retag(block.address, alloc::SiteTag::Untraced, block.requested);
      },
      nullptr);
}

void snapshot_lock_before_fork() noexcept { g_snapshot_mutex.lock(); }
void snapshot_unlock_after_fork() noexcept { g_snapshot_mutex.unlock(); }

}  // namespace heapsnap
