// Writing snapshot files: JSON one element per line (files that diff well) or CBOR, and save_snapshot.

#include <array>
#include <charconv>
#include <map>
#include <ostream>
#include <tuple>
#include <vector>

#include "snapshot/file_io.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/snapshot_schema.h"

namespace heapsnap {
namespace {

using namespace snapshot_schema;

constexpr const char* kOutputStreamName = "<output stream>";

std::string to_hex(std::uint64_t value) {
  std::array<char, 20> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value, 16);
  return "0x" + std::string(digits.data(), result.ptr);
}

// Writes `items` as a JSON array, one element per line, so that snapshot files diff well.
template <typename Items, typename ToJson>
void write_array(std::ostream& out, std::string_view key, const Items& items, ToJson to_json) {
  out << "  \"" << key << "\": [";
  bool first = true;
  for (const auto& item : items) {
    out << (first ? "\n    " : ",\n    ") << dump(to_json(item));
    first = false;
  }
  out << (first ? "]" : "\n  ]");
}

// The frame table: each distinct frame once, in order of first use. All five fields are the key,
// because frames equal by identity() may still differ in module or address.
struct FrameTable {
  using Key = std::tuple<std::string_view, std::uint32_t, std::string_view, std::string_view, std::uint64_t>;
  std::map<Key, std::uint32_t> index_of;
  std::vector<const Frame*> frames;

  std::uint32_t intern(const Frame& frame) {
    const Key key{frame.filename, frame.lineno, frame.function, frame.module, frame.address};
    const auto [it, inserted] = index_of.try_emplace(key, static_cast<std::uint32_t>(frames.size()));
    if (inserted) frames.push_back(&frame);
    return it->second;
  }
};

}  // namespace

SnapshotError::SnapshotError(std::string file, std::string position, std::string reason)
    : std::runtime_error(file + ": " + (position.empty() ? "" : position + ": ") + reason),
      file_(std::move(file)),
      position_(std::move(position)),
      reason_(std::move(reason)) {}

void write_snapshot_json(const Snapshot& snapshot, std::ostream& out) {
  for (std::size_t i = 0; i < snapshot.traces.size(); ++i) {
    const auto index = static_cast<std::uint32_t>(snapshot.traces[i].traceback);
    if (index >= snapshot.tracebacks.size()) {
      throw SnapshotError(kOutputStreamName, "/traces/" + std::to_string(i) + "/traceback",
                          "traceback " + std::to_string(index) + " does not exist (the snapshot has " +
                              std::to_string(snapshot.tracebacks.size()) + " tracebacks)");
    }
  }
  for (std::size_t i = 0; i < snapshot.cycles.size(); ++i) {
    if (auto defect = cycle_defect(snapshot.cycles[i], snapshot.tracebacks.size())) {
      throw SnapshotError(kOutputStreamName, "/cycles/" + std::to_string(i) + defect->where, defect->reason);
    }
  }
  for (std::size_t i = 0; i < snapshot.free_errors.size(); ++i) {
    const FreeError& error = snapshot.free_errors[i];
    for (const auto& [field, index] : {std::pair{"freed_at", std::optional(error.freed_at)}, std::pair{"allocated_at", error.allocated_at}}) {
      if (index && static_cast<std::uint32_t>(*index) >= snapshot.tracebacks.size()) {
        throw SnapshotError(kOutputStreamName, "/free_errors/" + std::to_string(i) + "/" + field,
                            "traceback " + std::to_string(static_cast<std::uint32_t>(*index)) + " does not exist");
      }
    }
  }
  for (std::size_t i = 0; i < snapshot.activity.size(); ++i) {
    const auto index = static_cast<std::uint32_t>(snapshot.activity[i].traceback);
    if (index >= snapshot.tracebacks.size()) {
      throw SnapshotError(kOutputStreamName, "/activity/" + std::to_string(i) + "/traceback",
                          "traceback " + std::to_string(index) + " does not exist");
    }
  }
  FrameTable frame_table;
  std::vector<std::vector<std::uint32_t>> traceback_frames;
  traceback_frames.reserve(snapshot.tracebacks.size());
  for (const Traceback& traceback : snapshot.tracebacks) {
    auto& indices = traceback_frames.emplace_back();
    indices.reserve(traceback.frames.size());
    for (const Frame& frame : traceback.frames) indices.push_back(frame_table.intern(frame));
  }

  const ProcessInfo& process = snapshot.process;
  out << "{\n  \"format\": \"" << kSnapshotFormat << "\",\n  \"version\": " << kSnapshotVersion
      << ",\n  \"traceback_limit\": " << snapshot.traceback_limit << ",\n  \"process\": "
      << dump(OrderedJson{{"pid", process.pid},
                          {"argv", process.argv},
                          {"executable", process.executable},
                          {"reason", process.reason},
                          {"unix_time_ms", process.unix_time_ms}})
      << ",\n  \"memory\": "
      << dump(OrderedJson{{"current", snapshot.traced_current},
                          {"peak", snapshot.traced_peak},
                          {"allocation_calls", snapshot.allocation_calls}})
      << ",\n  \"leak_analysis\": " << (snapshot.leak_analysis ? "true" : "false")
      << ",\n  \"sampling_rate\": " << snapshot.sampling_rate << ",\n";
  if (const std::optional<ThreadStop>& stop = snapshot.thread_stop) {  // optional: absent without leak analysis
    out << "  \"thread_stop\": "
        << dump(OrderedJson{{"method", stop_method_name(stop->method)},
                            {"fallback_reason", stop->fallback_reason},
                            {"threads_scanned", stop->threads_scanned},
                            {"threads_unscanned", stop->threads_unscanned}})
        << ",\n";
  }
  write_array(out, "frames", frame_table.frames, [](const Frame* frame) {
    OrderedJson item{{"function", frame->function}, {"filename", frame->filename}, {"lineno", frame->lineno},
                     {"module", frame->module},     {"address", to_hex(frame->address)}};
    if (!frame->build_id.empty()) {  // only where a later `heapsnap symbolize` has something to add
      item["build_id"] = frame->build_id;
      item["offset"] = to_hex(frame->offset);
    }
    return item;
  });
  out << ",\n";
  std::size_t traceback_index = 0;
  write_array(out, "tracebacks", snapshot.tracebacks, [&](const Traceback& traceback) {
    return OrderedJson{{"frames", traceback_frames[traceback_index++]}, {"total_nframe", traceback.total_nframe}};
  });
  out << ",\n";
  write_array(out, "traces", snapshot.traces, [](const Trace& trace) {
    OrderedJson item{{"domain", trace.domain},
                     {"traceback", static_cast<std::uint32_t>(trace.traceback)},
                     {"size", trace.size},
                     {"count", trace.count},
                     {"reachability", kReachabilityNames[static_cast<std::size_t>(trace.reachability)]}};
    if (trace.before_tracing) item["before_tracing"] = true;
    return item;
  });
  out << ",\n";
  write_array(out, "cycles", snapshot.cycles, [](const Cycle& cycle) {
    OrderedJson members = OrderedJson::array();
    for (const CycleMember& member : cycle.members) {
      members.push_back({{"address", to_hex(member.address)},
                         {"size", member.size},
                         {"traceback", static_cast<std::uint32_t>(member.traceback)}});
    }
    OrderedJson edges = OrderedJson::array();
    for (const CycleEdge& edge : cycle.edges) {
      edges.push_back({{"from", edge.from},
                       {"to", edge.to},
                       {"offset", edge.offset == kUnknownEdgeOffset ? OrderedJson(nullptr) : OrderedJson(edge.offset)}});
    }
    return OrderedJson{{"members", std::move(members)},
                       {"edges", std::move(edges)},
                       {"bytes", cycle.bytes},
                       {"reachable", cycle.reachable}};
  });
  if (!snapshot.activity.empty()) {  // optional: absent in files written before it was recorded
    out << ",\n";
    write_array(out, "activity", snapshot.activity, [](const SiteActivity& activity) {
      return OrderedJson{{"traceback", static_cast<std::uint32_t>(activity.traceback)},
                         {"calls", activity.calls},
                         {"allocated_size", activity.allocated_size},
                         {"temporary", activity.temporary},
                         {"peak_size", activity.peak_size},
                         {"peak_count", activity.peak_count}};
    });
  }
  if (snapshot.peak_view) {
    out << ",\n  \"peak_view\": "
        << dump(OrderedJson{{"total", snapshot.peak_view->total},
                            {"since", snapshot.peak_view->since_previous_snapshot ? "previous_snapshot" : "tracing_start"}});
  }
  if (!snapshot.free_errors.empty()) {  // optional: absent in files of programs without bad frees
    out << ",\n";
    write_array(out, "free_errors", snapshot.free_errors, [](const FreeError& error) {
      return OrderedJson{
          {"kind", kFreeErrorNames[static_cast<std::size_t>(error.kind)]},
          {"freed_at", static_cast<std::uint32_t>(error.freed_at)},
          {"allocated_at", error.allocated_at ? OrderedJson(static_cast<std::uint32_t>(*error.allocated_at)) : OrderedJson(nullptr)},
          {"count", error.count},
          {"address", to_hex(error.address)}};
    });
  }
  out << "\n}\n";
  out.flush();
  if (!out) throw SnapshotError(kOutputStreamName, "", "write failed");
}

void write_snapshot_cbor(const Snapshot& snapshot, std::ostream& out) {
  // Through the JSON text, so that both encodings hold exactly the same document; a snapshot's size
  // is proportional to its sites, not its blocks, so the detour is cheap.
  std::ostringstream text;
  write_snapshot_json(snapshot, text);
  const std::string json = std::move(text).str();
  const OrderedJson document = OrderedJson::parse(json);
  out.write(kCborMagic.data(), static_cast<std::streamsize>(kCborMagic.size()));
  OrderedJson::to_cbor(document, nlohmann::detail::output_adapter<char>(out));
  out.flush();
  if (!out) throw SnapshotError(kOutputStreamName, "", "write failed");
}

void save_snapshot(const Snapshot& snapshot, const std::filesystem::path& path, SnapshotEncoding encoding) {
  try {
    write_file_atomically(
        path,
        [&](std::ostream& out) {
          if (encoding == SnapshotEncoding::Cbor) {
            write_snapshot_cbor(snapshot, out);
          } else {
            write_snapshot_json(snapshot, out);
          }
        },
        ExistingFile::Replace, Durability::Atomic);
  } catch (const SnapshotError& error) {
    throw SnapshotError(path.string(), error.position(), error.reason());
  } catch (const std::runtime_error& error) {
    // write_file_atomically's messages already start with the path.
    const std::string message = error.what();
    const std::string prefix = path.string() + ": ";
    throw SnapshotError(path.string(), "", message.starts_with(prefix) ? message.substr(prefix.size()) : message);
  }
}

}  // namespace heapsnap
