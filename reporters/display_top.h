#pragma once
// The display_top() recipe of tracemalloc's documentation ("Pretty top"), byte for byte:
//   Top 10 lines
//   #1: /src/app.py:12: 4.9 KiB
//       data = b'x' * 5000
//   ...
//   3 other: 0.4 KiB
//   Total allocated size: 5.6 KiB
// Like the recipe it first drops traces whose most recent frame is "<unknown>" or
// "<frozen importlib._bootstrap>", titles "Top <limit> lines" whatever the grouping and the number of
// entries, prints the key's first frame (for GroupBy::Traceback, the *oldest* frame, as
// stat.traceback[0] is in Python), sizes as "%.1f KiB", and the stripped source line when there is one.
// heapsnap's own top report is TopTextReporter; this one is for output identical to Python's.

#include <cstddef>
#include <string>

#include "snapshot/linecache.h"
#include "snapshot/statistics.h"

namespace heapsnap {

std::string display_top(const Snapshot& snapshot, GroupBy key_type, std::size_t limit, LineCache& lines);
std::string display_top(const Snapshot& snapshot, GroupBy key_type = GroupBy::Lineno, std::size_t limit = 10);

}  // namespace heapsnap
