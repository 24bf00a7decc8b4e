#pragma once
// Human-readable byte counts, exactly as tracemalloc's _format_size: "512 B", "10.0 KiB", "2501 B",
// "+4.9 KiB". Three significant digits below 100 of a unit, whole numbers up to 10 * 1024 of a unit,
// then the next unit (B, KiB, MiB, GiB, TiB); rounding is printf's, half to even on the exact value.

#include <concepts>
#include <string>

namespace heapsnap {

// `sign`: always print the sign ("+0 B"), as for differences.
std::string format_size(double bytes, bool sign = false);

template <std::integral Integer>
std::string format_size(Integer bytes, bool sign = false) {
  return format_size(static_cast<double>(bytes), sign);
}

}  // namespace heapsnap
