#pragma once
// Just enough of the protocol buffers wire format to write one fixed schema (pprof's profile.proto):
// varints, and length-delimited strings, packed arrays and nested messages. Writing is all heapsnap
// needs, and this is smaller than a protobuf dependency and its generated code.
// https://protobuf.dev/programming-guides/encoding/

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heapsnap {

class ProtobufWriter {
 public:
  // A varint field (int64, uint64, bool). proto3 leaves fields at their default out, so 0 writes
  // nothing; `int64` values here are never negative.
  void varint_field(std::uint32_t field, std::uint64_t value) {
    if (value == 0) return;
    tag(field, kVarint);
    varint(value);
  }
  // A string or bytes field; written even when empty (a repeated string's empty element counts).
  void bytes_field(std::uint32_t field, std::string_view bytes) {
    tag(field, kLengthDelimited);
    varint(bytes.size());
    buffer_.append(bytes);
  }
  void message_field(std::uint32_t field, const ProtobufWriter& message) { bytes_field(field, message.buffer_); }
  // A repeated varint field, packed (the proto3 default encoding).
  void packed_field(std::uint32_t field, const std::vector<std::uint64_t>& values) {
    if (values.empty()) return;
    ProtobufWriter packed;
    for (const std::uint64_t value : values) packed.varint(value);
    bytes_field(field, packed.buffer_);
  }

  const std::string& bytes() const { return buffer_; }

 private:
  static constexpr std::uint32_t kVarint = 0;
  static constexpr std::uint32_t kLengthDelimited = 2;

  void tag(std::uint32_t field, std::uint32_t wire_type) { varint((std::uint64_t{field} << 3) | wire_type); }
  void varint(std::uint64_t value) {
    while (value >= 0x80) {
      buffer_.push_back(static_cast<char>((value & 0x7F) | 0x80));
      value >>= 7;
    }
    buffer_.push_back(static_cast<char>(value));
  }

  std::string buffer_;
};

}  // namespace heapsnap
