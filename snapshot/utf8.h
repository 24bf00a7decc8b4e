#pragma once
// Decoding UTF-8 the way Python's strict decoder does, for the places that must agree with Python
// on text: fnmatch (statistics.cpp) and source lines (linecache.cpp).

#include <cstddef>
#include <string_view>

namespace heapsnap {

// The length of the valid UTF-8 sequence at text[i], storing its code point in *code_point when
// given, or 0 when the bytes there are not valid UTF-8 (overlong forms, surrogates and values above
// U+10FFFF are not).
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i, char32_t* code_point = nullptr) {
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};  // by encoded length
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3
                             : (lead >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  char32_t value = length == 1 ? lead : length == 2 ? lead & 0x1F : length == 3 ? lead & 0x0F : lead & 0x07;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    value = (value << 6) | (next & 0x3F);
  }
  if (value < kSmallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  if (code_point != nullptr) *code_point = value;
  return length;
}

}  // namespace heapsnap
