#include "snapshot/cbor_guards.h"

#include <cstdint>
#include <limits>

namespace heapsnap::cbor_guards {

std::optional<std::size_t> nested_indefinite_string(std::string_view cbor) {
  struct Open {
    std::uint64_t remaining;  // items still to come in a definite-length array or map
    bool indefinite;          // ends at a break (0xff) instead
    int string_major;         // 2 or 3 for an indefinite-length byte or text string; -1 for containers
  };
  std::vector<Open> open;
  // Arrays and maps open: all of `open` but an indefinite-length string on top, if any.
  const auto containers = [](const std::vector<Open>& items) {
    return items.size() - (!items.empty() && items.back().string_major >= 0 ? 1 : 0);
  };
  std::size_t p = 0;
  while (p < cbor.size()) {
    const std::size_t at = p;
    const auto initial = static_cast<unsigned char>(cbor[p++]);
    if (initial == 0xFF) {  // break: closes an indefinite-length item, which is then complete
      if (open.empty() || !open.back().indefinite) return std::nullopt;
      open.pop_back();
    } else {
      const int major = initial >> 5;
      const int info = initial & 0x1F;
      std::uint64_t argument = static_cast<std::uint64_t>(info);
      if (info >= 24 && info <= 27) {
        const std::size_t length = std::size_t{1} << (info - 24);
        if (cbor.size() - p < length) return std::nullopt;
        argument = 0;
        for (std::size_t k = 0; k < length; ++k) argument = (argument << 8) | static_cast<unsigned char>(cbor[p + k]);
        p += length;
      } else if (info >= 28 && info <= 30) {
        return std::nullopt;
      }
      const bool indefinite = info == 31;
      if (indefinite && (major < 2 || major > 5)) return std::nullopt;
      if (!open.empty() && open.back().string_major >= 0) {  // a chunk of an indefinite-length string
        if (major != open.back().string_major) return std::nullopt;
        if (indefinite) return at;
      }
      if (major == 6) return std::nullopt;  // tags: nlohmann refuses them
      if ((major == 2 || major == 3) && !indefinite) {
        if (cbor.size() - p < argument) return std::nullopt;
        p += static_cast<std::size_t>(argument);
      } else if (major >= 2 && major <= 5) {
        // An array or map deeper than the builder allows: nlohmann stops there.
        if (major >= 4 && containers(open) >= DepthLimitedBuilder::kMaxDepth) return std::nullopt;
        if (indefinite) {
          open.push_back({0, true, major <= 3 ? major : -1});
          continue;
        }
        if (major == 5 && argument > (std::numeric_limits<std::uint64_t>::max() >> 1)) return std::nullopt;
        const std::uint64_t items = major == 5 ? 2 * argument : argument;
        if (items > 0) {
          open.push_back({items, false, -1});
          continue;
        }
      }
    }
    // An item is complete: it counts against the definite-length containers it completes.
    while (!open.empty() && !open.back().indefinite) {
      if (--open.back().remaining > 0) break;
      open.pop_back();
    }
    if (open.empty()) return std::nullopt;  // the document is complete
  }
  return std::nullopt;
}


}  // namespace heapsnap::cbor_guards
