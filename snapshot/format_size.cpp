#include "snapshot/format_size.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace heapsnap {
namespace {

std::string printf_number(double value, int decimals, bool sign, std::string_view unit) {
  std::array<char, 64> text{};
  std::snprintf(text.data(), text.size(), sign ? "%+.*f %s" : "%.*f %s", decimals, value,
                std::string(unit).c_str());
  return text.data();
}

}  // namespace

std::string format_size(double bytes, bool sign) {
  constexpr std::array<std::string_view, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  for (std::string_view unit : kUnits) {
    if (std::fabs(bytes) < 100 && unit != "B") return printf_number(bytes, 1, sign, unit);  // xx.x UNIT
    if (std::fabs(bytes) < 10 * 1024 || unit == "TiB") return printf_number(bytes, 0, sign, unit);  // xxxx UNIT
    bytes /= 1024;
  }
  return {};  // not reached: TiB always returns
}

}  // namespace heapsnap
