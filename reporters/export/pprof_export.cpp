#include "reporters/export/pprof_export.h"

#include <algorithm>
#include <limits>
#include <map>
#include <ostream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reporters/export/export_stacks.h"
#include "reporters/export/gzip.h"
#include "reporters/export/protobuf_writer.h"

namespace heapsnap {
namespace {

// Field numbers of profile.proto (github.com/google/pprof/blob/main/proto/profile.proto).
namespace profile {
constexpr std::uint32_t kSampleType = 1, kSample = 2, kLocation = 4, kFunction = 5, kStringTable = 6,
                        kTimeNanos = 9, kPeriodType = 11, kPeriod = 12, kDefaultSampleType = 14;
}
namespace value_type {
constexpr std::uint32_t kType = 1, kUnit = 2;
}
namespace sample {
constexpr std::uint32_t kLocationId = 1, kValue = 2, kLabel = 3;
}
namespace label {
constexpr std::uint32_t kKey = 1, kStr = 2;
}
namespace location {
constexpr std::uint32_t kId = 1, kAddress = 3, kLine = 4;
}
namespace line {
constexpr std::uint32_t kFunctionId = 1, kLine = 2;
}
namespace function {
constexpr std::uint32_t kId = 1, kName = 2, kSystemName = 3, kFilename = 4;
}

// The string table: every string once, "" at index 0 as the format requires.
class StringTable {
 public:
  StringTable() { index(""); }
  std::uint64_t index(const std::string& text) {
    const auto [entry, added] = indices_.try_emplace(valid_utf8(text), strings_.size());
    if (added) strings_.push_back(entry->first);
    return entry->second;
  }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::unordered_map<std::string, std::uint64_t> indices_;
  std::vector<std::string> strings_;
};

ProtobufWriter value_type_message(StringTable& strings, const std::string& type, const std::string& unit) {
  ProtobufWriter message;
  message.varint_field(value_type::kType, strings.index(type));
  message.varint_field(value_type::kUnit, strings.index(unit));
  return message;
}

// pprof's values are int64; a count beyond that cannot come from a real process.
std::uint64_t as_int64(std::uint64_t value) {
  return std::min<std::uint64_t>(value, std::numeric_limits<std::int64_t>::max());
}

}  // namespace

std::string encode_pprof(const Snapshot& snapshot) {
  // With per-site activity, Go's heap profile sample types: what was allocated since tracing started too.
  const bool with_activity = !snapshot.activity.empty();
  const ExportStacks exported = weighted_stacks(snapshot, with_activity);
  StringTable strings;
  ProtobufWriter header;
  header.message_field(profile::kSampleType, value_type_message(strings, "inuse_objects", "count"));
  header.message_field(profile::kSampleType, value_type_message(strings, "inuse_space", "bytes"));
  if (with_activity) {
    header.message_field(profile::kSampleType, value_type_message(strings, "alloc_objects", "count"));
    header.message_field(profile::kSampleType, value_type_message(strings, "alloc_space", "bytes"));
  }

  // A location per distinct frame, its id the frame's + 1 (ids start at 1); a function per (name, file).
  ProtobufWriter locations;
  ProtobufWriter functions;
  std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids;
  for (ExportFrameId id = 0; id < exported.frames.size(); ++id) {
    const Frame& frame = *exported.frames[id];
    const std::string name = export_frame_name(frame);
    const auto [function_entry, new_function] = function_ids.try_emplace({name, frame.filename}, function_ids.size() + 1);
    if (new_function) {
      ProtobufWriter message;
      message.varint_field(function::kId, function_entry->second);
      message.varint_field(function::kName, strings.index(name));
      message.varint_field(function::kSystemName, strings.index(name));
      message.varint_field(function::kFilename, strings.index(frame.filename));
      functions.message_field(profile::kFunction, message);
    }
    ProtobufWriter line_message;
    line_message.varint_field(line::kFunctionId, function_entry->second);
    line_message.varint_field(line::kLine, frame.lineno);
    ProtobufWriter message;
    message.varint_field(location::kId, id + 1);
    message.varint_field(location::kAddress, frame.address);  // of the frame's first occurrence
    message.message_field(location::kLine, line_message);
    locations.message_field(profile::kLocation, message);
  }

  ProtobufWriter samples;
  for (const WeightedStack& stack : exported.stacks) {
    std::vector<std::uint64_t> location_path;  // leaf first, as the frames are
    location_path.reserve(stack.frames.size());
    for (const ExportFrameId id : stack.frames) location_path.push_back(id + 1);
    ProtobufWriter message;
    message.packed_field(sample::kLocationId, location_path);
    if (with_activity) {
      message.packed_field(sample::kValue, {as_int64(stack.blocks), as_int64(stack.bytes), as_int64(stack.calls), as_int64(stack.allocated)});
    } else {
      message.packed_field(sample::kValue, {as_int64(stack.blocks), as_int64(stack.bytes)});
    }
    if (snapshot.leak_analysis) {
      ProtobufWriter label_message;
      label_message.varint_field(label::kKey, strings.index("reachability"));
      label_message.varint_field(label::kStr, strings.index(std::string(reachability_name(stack.reachability))));
      message.message_field(sample::kLabel, label_message);
    }
    samples.message_field(profile::kSample, message);
  }

  ProtobufWriter trailer;
  if (snapshot.process.unix_time_ms > 0) {
    trailer.varint_field(profile::kTimeNanos, static_cast<std::uint64_t>(snapshot.process.unix_time_ms) * 1'000'000);
  }
  if (snapshot.sampling_rate != 0) {
    trailer.message_field(profile::kPeriodType, value_type_message(strings, "space", "bytes"));
    trailer.varint_field(profile::kPeriod, as_int64(snapshot.sampling_rate));
  }
  trailer.varint_field(profile::kDefaultSampleType, strings.index("inuse_space"));

  // Field order does not matter to a protobuf reader; the string table goes last, once complete.
  std::string encoded = header.bytes() + samples.bytes() + locations.bytes() + functions.bytes() + trailer.bytes();
  ProtobufWriter string_table;
  for (const std::string& text : strings.strings()) string_table.bytes_field(profile::kStringTable, text);
  return encoded + string_table.bytes();
}

void PprofExporter::render(std::ostream& out) const {
  const std::string compressed = gzip(encode_pprof(snapshot_));
  out.write(compressed.data(), static_cast<std::streamsize>(compressed.size()));
}

}  // namespace heapsnap
