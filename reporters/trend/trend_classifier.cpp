#include "reporters/trend/trend_classifier.h"

#include <algorithm>
#include <stdexcept>

namespace heapsnap {
namespace {

double least_squares_slope(const std::vector<double>& x, const std::vector<std::uint64_t>& y) {
  const double n = static_cast<double>(x.size());
  double mean_x = 0, mean_y = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mean_x += x[i] / n;
    mean_y += static_cast<double>(y[i]) / n;
  }
  double covariance = 0, variance = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    covariance += (x[i] - mean_x) * (static_cast<double>(y[i]) - mean_y);
    variance += (x[i] - mean_x) * (x[i] - mean_x);
  }
  return covariance / variance;  // variance > 0: x is strictly increasing
}

std::int64_t difference(std::uint64_t to, std::uint64_t from) {
  return to >= from ? static_cast<std::int64_t>(to - from) : -static_cast<std::int64_t>(from - to);
}

}  // namespace

std::string_view trend_class_name(TrendClass trend_class) {
  switch (trend_class) {
    case TrendClass::Growing: return "growing";
    case TrendClass::Plateau: return "plateau";
    case TrendClass::Churn: return "churn";
    case TrendClass::Shrinking: return "shrinking";
    case TrendClass::Stable: return "stable";
  }
  return "churn";
}

SiteTrend classify_trend(const std::vector<double>& x, const std::vector<std::uint64_t>& sizes) {
  if (x.size() != sizes.size() || sizes.size() < kMinTrendPoints) {
    throw std::invalid_argument("a trend needs as many positions as sizes, and at least 3 of each");
  }
  for (std::size_t i = 1; i < x.size(); ++i) {
    if (!(x[i] > x[i - 1])) throw std::invalid_argument("trend positions must be strictly increasing");
  }
  const std::size_t n = sizes.size();
  const std::size_t steps = n - 1;
  SiteTrend trend;
  trend.slope = least_squares_slope(x, sizes);
  trend.growth = difference(sizes.back(), sizes.front());
  const auto [min, max] = std::minmax_element(sizes.begin(), sizes.end());
  trend.min = *min;
  trend.max = *max;
  for (std::size_t i = 1; i < n; ++i) {
    trend.rising_steps += sizes[i] > sizes[i - 1];
    trend.falling_steps += sizes[i] < sizes[i - 1];
  }
  trend.tail_start = 2 * steps / 3;
  trend.tail_growth = difference(sizes.back(), sizes[trend.tail_start]);

  bool tail_falls = false;
  std::uint64_t tail_min = sizes[trend.tail_start], tail_max = sizes[trend.tail_start];
  for (std::size_t i = trend.tail_start + 1; i < n; ++i) {
    tail_falls = tail_falls || sizes[i] < sizes[i - 1];
    tail_min = std::min(tail_min, sizes[i]);
    tail_max = std::max(tail_max, sizes[i]);
  }
  const bool mostly_non_decreasing =
      static_cast<double>(steps - trend.falling_steps) >= kMinNonDecreasingFraction * static_cast<double>(steps);
  const bool tail_flat =
      static_cast<double>(tail_max - tail_min) <= kFlatTailTolerance * static_cast<double>(tail_max);

  if (trend.rising_steps == 0 && trend.falling_steps == 0) {
    trend.trend_class = TrendClass::Stable;
  } else if (trend.growth > 0 && trend.slope > 0 && mostly_non_decreasing && trend.rising_steps >= kMinRisingSteps &&
             trend.tail_growth > 0 && !tail_falls) {
    trend.trend_class = TrendClass::Growing;
  } else if (sizes[trend.tail_start] > sizes.front() && mostly_non_decreasing && tail_flat) {
    trend.trend_class = TrendClass::Plateau;
  } else if (trend.rising_steps == 0) {
    trend.trend_class = TrendClass::Shrinking;
  } else {
    trend.trend_class = TrendClass::Churn;
  }
  return trend;
}

}  // namespace heapsnap
