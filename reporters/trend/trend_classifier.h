#pragma once
// How one allocation site's live size moved over a series of snapshots: does it grow steadily (the
// typical leak of a long-running service: a cache nobody evicts), grow and then level off, or go up and
// down? Used by `heapsnap trend` and `heapsnap check --max-growth` (docs/trend.md).
//
// For sizes y[0..n-1] at positions x[0..n-1] (seconds, or snapshot numbers), n >= 3, with steps
// d[i] = y[i] - y[i-1] and the tail the last third of the steps, from k = floor(2(n-1)/3) on:
//   stable     every step is 0;
//   growing    y[n-1] > y[0], least-squares slope > 0, at least 2/3 of the steps non-decreasing,
//              at least 2 steps rising, and the tail still growing: y[n-1] > y[k] with no tail step
//              falling;
//   plateau    not growing; it grew before the tail (y[k] > y[0]), at least 2/3 of the steps
//              non-decreasing, and the tail is flat: max - min of y[k..n-1] <= 10% of its max;
//   shrinking  no step rising (and not stable);
//   churn      anything else: up and down.
// The checks run in this order; the first that holds decides.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace heapsnap {

enum class TrendClass { Growing, Plateau, Churn, Shrinking, Stable };  // also the order of reports

std::string_view trend_class_name(TrendClass trend_class);  // "growing", "plateau", ...

inline constexpr std::size_t kMinTrendPoints = 3;  // two points make a line, not a trend

struct SiteTrend {
  TrendClass trend_class = TrendClass::Stable;
  double slope = 0;                // least-squares slope of y over x: bytes per second (or per snapshot)
  std::int64_t growth = 0;         // y[n-1] - y[0]
  std::uint64_t min = 0, max = 0;  // over the whole series
  std::size_t rising_steps = 0;    // steps with d > 0
  std::size_t falling_steps = 0;   // steps with d < 0
  std::size_t tail_start = 0;      // k: the tail is y[k..n-1]
  std::int64_t tail_growth = 0;    // y[n-1] - y[k]
};

// The first 2/3 of the steps, at least, must not fall for `growing` and `plateau`; a tail whose range
// is within 10% of its highest value is flat.
inline constexpr double kMinNonDecreasingFraction = 2.0 / 3.0;
inline constexpr std::size_t kMinRisingSteps = 2;
inline constexpr double kFlatTailTolerance = 0.10;

// `x` strictly increasing, as many as `sizes`, at least kMinTrendPoints of each; throws
// std::invalid_argument otherwise.
SiteTrend classify_trend(const std::vector<double>& x, const std::vector<std::uint64_t>& sizes);

}  // namespace heapsnap
