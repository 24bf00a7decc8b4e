#pragma once
// The leak report as text for people: the verdict and its reasons first, then what was analysed, the
// leaked cycles by shape (each shape once, with its count and members), then the biggest other leak
// sites, each with its stack, most recent frame first:
//   heapsnap check: FAILED
//     2 leaked blocks (1.5 KiB) exceed --max-leaked-blocks 0
//   ...
//   100 cycles of 2 blocks (96 B each): block at src/node.cpp:31 (make_node) ↔ block at src/node.cpp:31 (make_node)
//       block 1 (48 B) points to block 2 (offsets 16, 24)
//           at src/node.cpp:31 (make_node)
//   ...
//   #1: direct leak: 1.0 KiB in 1 block
//       at src/widget.cpp:12 (make_widget)
//          src/main.cpp:30 (main)
// With --suppressions, a line says what was suppressed, and the report ends with every rule and what
// it matched ("matched nothing" for stale ones).
// At most `sites_shown` shapes and `sites_shown` sites are printed.

#include <cstddef>

#include "reporters/leaks/leak_report.h"
#include "reporters/reporter.h"

namespace heapsnap {

class LeakReportTextReporter final : public Reporter {
 public:
  static constexpr std::size_t kDefaultSitesShown = 20;

  // `colour`: ANSI colour for the verdict and the headings, for a terminal (the CLI decides).
  explicit LeakReportTextReporter(LeakReport report, std::size_t sites_shown = kDefaultSitesShown, bool colour = false);
  void render(std::ostream& out) const override;

 private:
  void render_leaks(std::ostream& out) const;


  LeakReport report_;
  std::size_t sites_shown_;
  bool colour_;
};

}  // namespace heapsnap
