#pragma once
// The page model of `heapsnap report` (docs/html-report.md): a run's snapshots in time order, the live
// memory at the peak and at the end as flame trees and top sites, and the leaks of the last snapshot
// that had a leak analysis (normally the exit snapshot; an interval snapshot may still be written
// while the program exits, after it).
// HtmlReportReporter (html_page.h) renders it as one self-contained HTML file.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reporters/html/flame_tree.h"
#include "reporters/leaks/leak_report.h"
#include "snapshot/snapshot.h"
#include "snapshot/statistics.h"

namespace heapsnap {

// Sites listed in a view's table and leaks in the leak list; the rest are counted, not listed, so that
// a snapshot of a million sites still makes a page a browser opens.
inline constexpr std::size_t kMaxListedSites = 1000;

struct ReportInput {
  std::string path;  // as the user named it: shown in the page
  Snapshot snapshot;
};

// One snapshot of the series, as the heap-over-time chart plots it.
struct SeriesPoint {
  std::string path;
  std::string reason;               // process.reason: "interval", "signal", "exit", ...
  std::int64_t unix_time_ms = 0;
  std::uint64_t traced_current = 0;
  std::uint64_t traced_peak = 0;
  std::uint64_t sampling_rate = 0;
  std::uint32_t traceback_limit = 0;
  bool leak_analysis = false;
};

// The live memory of one snapshot.
struct HeapView {
  // What the view's sizes are: "live" (bytes live in the snapshot), or, from the last snapshot's
  // per-site activity, "peak" (bytes held at the peak), "allocated" (bytes allocated since tracing
  // started), "calls" and "temporary" (allocations: the tree's sizes count them, not bytes).
  std::string measure = "live";
  std::size_t snapshot = 0;          // index into HtmlReport::series
  FlameNode tree;                    // root: every trace of the snapshot
  std::vector<Statistic> sites;      // statistics by line, biggest first, at most kMaxListedSites
  std::size_t total_sites = 0;       // before the cut
};

struct HtmlReport {
  std::string title;
  std::vector<std::string> argv;     // of the last snapshot's process
  std::vector<SeriesPoint> series;   // by unix_time_ms; snapshots taken at the same time in input order
  std::size_t peak = 0;              // index into series: the largest traced_current (the first of equals)
  std::size_t end = 0;               // index into series: the last
  FrameTable frames;                 // every frame the views and leaks name
  std::vector<HeapView> views;       // the peak's, then the end's unless the peak is the end, then
                                     // the last snapshot's activity views (if it has activity)
  std::size_t peak_view = 0;         // index into views
  std::size_t end_view = 0;          // index into views
  std::optional<LeakReport> leaks;   // of the last snapshot with a leak analysis, if any
  std::size_t leaks_snapshot = 0;    // index into series: that snapshot
  std::size_t total_leak_sites = 0;  // leaks->leaks is cut at kMaxListedSites
};

// Throws std::invalid_argument when `inputs` is empty, std::out_of_range for a trace or cycle member
// that names a traceback its snapshot does not have. `title` empty: "heapsnap report: <program>".
HtmlReport build_html_report(std::vector<ReportInput> inputs, std::string title);

}  // namespace heapsnap
