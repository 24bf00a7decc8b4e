#include "profiler/snapshot_json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <istream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace heapsnap {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 5> kReachabilityNames = {"not_analyzed", "reachable", "direct",
                                                                 "indirect", "cycle"};
static_assert(kReachabilityNames.size() == static_cast<std::size_t>(Reachability::Cycle) + 1);

constexpr std::array<std::string_view, 2> kFreeErrorNames = {"double_free", "invalid_free"};
static_assert(kFreeErrorNames.size() == static_cast<std::size_t>(FreeErrorKind::InvalidFree) + 1);

constexpr const char* kOutputStreamName = "<output stream>";

std::string errno_text(int error) { return std::strerror(error); }

// ---------------------------------------------------------------------------------------------------
// Writing

std::string to_hex(std::uint64_t value) {
  std::array<char, 20> digits{};
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value, 16);
  return "0x" + std::string(digits.data(), result.ptr);
}

std::string dump(const OrderedJson& value) {
  // Replace invalid UTF-8 instead of throwing: argv and paths are arbitrary bytes, and a snapshot
  // with a U+FFFD in a file name beats no snapshot.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
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

// What makes a cycle unusable, shared by the writer and the reader so that every file written can be
// read back: `where` is the JSON pointer below the cycle ("/members/2/traceback").
struct CycleDefect {
  std::string where;
  std::string reason;
};

std::optional<CycleDefect> cycle_defect(const Cycle& cycle, std::size_t traceback_count) {
  const std::size_t members = cycle.members.size();
  if (members == 0) return CycleDefect{"/members", "a cycle has at least one member"};
  std::uint64_t bytes = 0;
  for (std::size_t k = 0; k < members; ++k) {
    const auto traceback = static_cast<std::uint32_t>(cycle.members[k].traceback);
    if (traceback >= traceback_count) {
      return CycleDefect{"/members/" + std::to_string(k) + "/traceback",
                         "traceback " + std::to_string(traceback) + " does not exist (/tracebacks has " +
                             std::to_string(traceback_count) + " entries)"};
    }
    if (cycle.members[k].size > std::numeric_limits<std::uint64_t>::max() - bytes) {
      return CycleDefect{"/members/" + std::to_string(k) + "/size", "the members' sizes add up to more than 64 bits"};
    }
    bytes += cycle.members[k].size;
  }
  for (std::size_t e = 0; e < cycle.edges.size(); ++e) {
    for (const auto& [field, member] : {std::pair{"from", cycle.edges[e].from}, std::pair{"to", cycle.edges[e].to}}) {
      if (member >= members) {
        return CycleDefect{"/edges/" + std::to_string(e) + "/" + field,
                           "member " + std::to_string(member) + " does not exist (the cycle has " +
                               std::to_string(members) + (members == 1 ? " member)" : " members)")};
      }
    }
  }
  if (members == 1 && cycle.edges.empty()) {
    return CycleDefect{"/edges", "a cycle of one member needs an edge (the member pointing to itself)"};
  }
  if (bytes != cycle.bytes) {
    return CycleDefect{"/bytes", std::to_string(cycle.bytes) + " is not the sum of the members' sizes (" +
                                     std::to_string(bytes) + ")"};
  }
  return std::nullopt;
}

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
    return OrderedJson{{"function", frame->function}, {"filename", frame->filename}, {"lineno", frame->lineno},
                       {"module", frame->module},     {"address", to_hex(frame->address)}};
  });
  out << ",\n";
  std::size_t traceback_index = 0;
  write_array(out, "tracebacks", snapshot.tracebacks, [&](const Traceback& traceback) {
    return OrderedJson{{"frames", traceback_frames[traceback_index++]}, {"total_nframe", traceback.total_nframe}};
  });
  out << ",\n";
  write_array(out, "traces", snapshot.traces, [](const Trace& trace) {
    return OrderedJson{{"domain", trace.domain},
                       {"traceback", static_cast<std::uint32_t>(trace.traceback)},
                       {"size", trace.size},
                       {"count", trace.count},
                       {"reachability", kReachabilityNames[static_cast<std::size_t>(trace.reachability)]}};
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

// ---------------------------------------------------------------------------------------------------
// Reading

namespace {

// Where a value sits in the document, as a chain of stack-allocated links: the JSON pointer text is
// only built when there is an error to report.
struct JsonPath {
  const JsonPath* parent = nullptr;
  std::string_view key;     // member name, or empty for an array element
  std::size_t index = 0;    // array element index

  JsonPath member(std::string_view name) const { return JsonPath{this, name, 0}; }
  JsonPath element(std::size_t i) const { return JsonPath{this, {}, i}; }

  std::string pointer() const {
    if (parent == nullptr) return "(root)";
    std::string prefix = parent->parent == nullptr ? "" : parent->pointer();
    return prefix + "/" + (key.empty() ? std::to_string(index) : std::string(key));
  }
};

// Quotes text from the input for an error message: escaped, and cut short if long.
std::string quote(const std::string& text) {
  constexpr std::size_t kMaxShown = 40;
  const bool cut = text.size() > kMaxShown;
  std::string shown = dump(OrderedJson(cut ? text.substr(0, kMaxShown) : text));
  return cut ? shown.substr(0, shown.size() - 1) + "...\"" : shown;
}

std::string describe(const Json& value) {
  if (value.is_number() || value.is_boolean() || value.is_null()) return value.dump();
  if (value.is_string()) return "string " + quote(value.get<std::string>());
  return value.type_name();
}

// Tracebacks hold their frames by value, and reports copy a cycle member's whole stack: a frame with
// a long name that many stacks refer to is copied once per reference. So that a small file cannot ask
// for gigabytes (120 KiB of one long frame named 30000 times expanded to 1.7 GiB), the frames all
// references copy may come to kMaxExpansion times the input's size, or kMinExpansionBudget for small
// inputs. Snapshots of real programs copy some tens of bytes per byte of input.
constexpr std::uint64_t kMaxExpansion = 1024;
constexpr std::uint64_t kMinExpansionBudget = std::uint64_t{64} << 20;

std::uint64_t frame_cost(const Frame& frame) {
  return sizeof(Frame) + frame.filename.size() + frame.function.size() + frame.module.size();
}

class SchemaReader {
 public:
  SchemaReader(const std::string& source, std::size_t input_size)
      : source_(source), budget_(std::max(kMinExpansionBudget, kMaxExpansion * std::uint64_t{input_size})) {}

  Snapshot snapshot(const Json& document) const {
    const JsonPath root;
    require_object(document, root);
    check_format(document, root);
    Snapshot snapshot;
    snapshot.traceback_limit = unsigned_member<std::uint32_t>(document, root, "traceback_limit");
    if (const Json* process = optional(document, "process")) {
      snapshot.process = process_info(*process, root.member("process"));
    }
    if (const Json* memory = optional(document, "memory")) {
      const JsonPath path = root.member("memory");
      require_object(*memory, path);
      snapshot.traced_current = unsigned_member<std::uint64_t>(*memory, path, "current");
      snapshot.traced_peak = unsigned_member<std::uint64_t>(*memory, path, "peak");
      if (const Json* calls = optional(*memory, "allocation_calls")) {
        snapshot.allocation_calls = unsigned_value<std::uint64_t>(*calls, path.member("allocation_calls"));
      }
    }
    if (const Json* leak_analysis = optional(document, "leak_analysis")) {
      snapshot.leak_analysis = boolean(*leak_analysis, root.member("leak_analysis"));
    }
    if (const Json* stop = optional(document, "thread_stop")) {
      snapshot.thread_stop = thread_stop(*stop, root.member("thread_stop"));
    }
    if (const Json* sampling_rate = optional(document, "sampling_rate")) {
      snapshot.sampling_rate = unsigned_value<std::uint64_t>(*sampling_rate, root.member("sampling_rate"));
    }
    const std::vector<Frame> frames = frame_table(document, root);
    snapshot.tracebacks = tracebacks(document, root, frames);
    snapshot.traces = traces(document, root, snapshot.tracebacks.size());
    if (const Json* cycles_value = optional(document, "cycles")) {
      std::vector<std::uint64_t> traceback_costs;
      traceback_costs.reserve(snapshot.tracebacks.size());
      for (const Traceback& traceback : snapshot.tracebacks) {
        std::uint64_t cost = sizeof(Traceback);
        for (const Frame& frame : traceback.frames) cost += frame_cost(frame);
        traceback_costs.push_back(cost);
      }
      snapshot.cycles = cycles(*cycles_value, root.member("cycles"), traceback_costs);
    }
    if (const Json* errors = optional(document, "free_errors")) {
      snapshot.free_errors = free_errors(*errors, root.member("free_errors"), snapshot.tracebacks.size());
    }
    return snapshot;
  }

 private:
  [[noreturn]] void fail(const JsonPath& path, const std::string& reason) const {
    throw SnapshotError(source_, path.pointer(), reason);
  }

  // Counts `bytes` of frames copied for the reference at `path` against the budget.
  void expand(std::uint64_t bytes, const JsonPath& path) const {
    expanded_ += bytes;
    if (expanded_ <= budget_) return;
    fail(path, "the tracebacks and cycle members refer to more than " + std::to_string(budget_ >> 20) +
                   " MiB of frames in all (" + std::to_string(kMaxExpansion) +
                   " times the input's size, at least " + std::to_string(kMinExpansionBudget >> 20) +
                   " MiB): too much to read");
  }

  void check_format(const Json& document, const JsonPath& root) const {
    const JsonPath format_path = root.member("format");
    const Json* format = optional(document, "format");
    if (format == nullptr) fail(format_path, "missing: not a heapsnap snapshot");
    if (!format->is_string() || format->get<std::string>() != kSnapshotFormat) {
      fail(format_path, "expected \"" + std::string(kSnapshotFormat) + "\", got " + describe(*format) +
                            ": not a heapsnap snapshot");
    }
    const JsonPath version_path = root.member("version");
    const Json* version = optional(document, "version");
    if (version == nullptr) fail(version_path, "missing");
    if (!version->is_number_unsigned() || version->get<std::uint64_t>() != kSnapshotVersion) {
      fail(version_path, "unsupported version " + describe(*version) + " (this heapsnap reads version " +
                             std::to_string(kSnapshotVersion) + ")");
    }
  }

  static const Json* optional(const Json& object, std::string_view key) {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  const Json& required(const Json& object, const JsonPath& path, std::string_view key) const {
    const Json* value = optional(object, key);
    if (value == nullptr) fail(path.member(key), "missing");
    return *value;
  }

  void require_object(const Json& value, const JsonPath& path) const {
    if (!value.is_object()) fail(path, "expected an object, got " + describe(value));
  }

  const Json::array_t& array(const Json& value, const JsonPath& path) const {
    if (!value.is_array()) fail(path, "expected an array, got " + describe(value));
    return value.get_ref<const Json::array_t&>();
  }

  std::string string(const Json& value, const JsonPath& path) const {
    if (!value.is_string()) fail(path, "expected a string, got " + describe(value));
    return value.get<std::string>();
  }

  bool boolean(const Json& value, const JsonPath& path) const {
    if (!value.is_boolean()) fail(path, "expected true or false, got " + describe(value));
    return value.get<bool>();
  }

  template <typename Unsigned>
  Unsigned unsigned_value(const Json& value, const JsonPath& path) const {
    constexpr auto kMax = std::numeric_limits<Unsigned>::max();
    if (value.is_number_integer() && !value.is_number_unsigned()) {
      fail(path, "expected a non-negative integer, got " + describe(value));
    }
    if (!value.is_number_unsigned()) fail(path, "expected a non-negative integer, got " + describe(value));
    const auto number = value.get<std::uint64_t>();
    if constexpr (kMax < std::numeric_limits<std::uint64_t>::max()) {
      if (number > kMax) fail(path, describe(value) + " is out of range (at most " + std::to_string(kMax) + ")");
    }
    return static_cast<Unsigned>(number);
  }

  template <typename Unsigned>
  Unsigned unsigned_member(const Json& object, const JsonPath& path, std::string_view key) const {
    return unsigned_value<Unsigned>(required(object, path, key), path.member(key));
  }

  std::int64_t signed_value(const Json& value, const JsonPath& path) const {
    if (value.is_number_unsigned()) {
      const auto number = value.get<std::uint64_t>();
      if (number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail(path, describe(value) + " is out of range");
      }
      return static_cast<std::int64_t>(number);
    }
    if (!value.is_number_integer()) fail(path, "expected an integer, got " + describe(value));
    return value.get<std::int64_t>();
  }

  std::string optional_string(const Json& object, const JsonPath& path, std::string_view key) const {
    const Json* value = optional(object, key);
    return value == nullptr ? std::string() : string(*value, path.member(key));
  }

  ProcessInfo process_info(const Json& value, const JsonPath& path) const {
    require_object(value, path);
    ProcessInfo process;
    if (const Json* pid = optional(value, "pid")) process.pid = signed_value(*pid, path.member("pid"));
    if (const Json* argv = optional(value, "argv")) {
      const JsonPath argv_path = path.member("argv");
      const auto& items = array(*argv, argv_path);
      for (std::size_t i = 0; i < items.size(); ++i) process.argv.push_back(string(items[i], argv_path.element(i)));
    }
    process.executable = optional_string(value, path, "executable");
    process.reason = optional_string(value, path, "reason");
    if (const Json* time = optional(value, "unix_time_ms")) {
      process.unix_time_ms = signed_value(*time, path.member("unix_time_ms"));
    }
    return process;
  }

  std::uint64_t address(const Json& value, const JsonPath& path) const {
    const std::string text = string(value, path);
    const bool has_prefix = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    std::uint64_t number = 0;
    const char* end = text.data() + text.size();
    const auto result = has_prefix ? std::from_chars(text.data() + 2, end, number, 16)
                                   : std::from_chars_result{text.data(), std::errc::invalid_argument};
    if (result.ec == std::errc::result_out_of_range) fail(path, "address " + quote(text) + " exceeds 64 bits");
    if (result.ec != std::errc() || result.ptr != end) {
      fail(path, "expected a hexadecimal address such as \"0x401234\", got " + quote(text));
    }
    return number;
  }

  // The array at `path`, each element an object read by `read(item, item_path)`.
  template <typename Read>
  auto objects(const Json& value, const JsonPath& path, Read read) const {
    const auto& items = array(value, path);
    std::vector<decltype(read(value, path))> result;
    result.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const JsonPath item_path = path.element(i);
      require_object(items[i], item_path);
      result.push_back(read(items[i], item_path));
    }
    return result;
  }

  std::vector<Frame> frame_table(const Json& document, const JsonPath& root) const {
    return objects(required(document, root, "frames"), root.member("frames"), [&](const Json& item, const JsonPath& path) {
      Frame frame;
      frame.filename = string(required(item, path, "filename"), path.member("filename"));
      frame.lineno = unsigned_member<std::uint32_t>(item, path, "lineno");
      frame.function = optional_string(item, path, "function");
      frame.module = optional_string(item, path, "module");
      if (const Json* address_value = optional(item, "address")) frame.address = address(*address_value, path.member("address"));
      return frame;
    });
  }

  std::vector<Traceback> tracebacks(const Json& document, const JsonPath& root, const std::vector<Frame>& frames) const {
    const auto read = [&](const Json& item, const JsonPath& path) {
      const JsonPath frames_path = path.member("frames");
      const auto& indices = array(required(item, path, "frames"), frames_path);
      Traceback traceback;
      traceback.frames.reserve(indices.size());
      for (std::size_t k = 0; k < indices.size(); ++k) {
        const auto index = unsigned_value<std::uint64_t>(indices[k], frames_path.element(k));
        if (index >= frames.size()) {
          fail(frames_path.element(k), "frame " + std::to_string(index) + " does not exist (/frames has " +
                                           std::to_string(frames.size()) + " entries)");
        }
        expand(frame_cost(frames[index]), frames_path.element(k));
        traceback.frames.push_back(frames[index]);
      }
      const Json* total = optional(item, "total_nframe");
      traceback.total_nframe = total == nullptr ? static_cast<std::uint32_t>(traceback.frames.size())
                                                : unsigned_value<std::uint32_t>(*total, path.member("total_nframe"));
      return traceback;
    };
    return objects(required(document, root, "tracebacks"), root.member("tracebacks"), read);
  }

  Reachability reachability(const Json& value, const JsonPath& path) const {
    const std::string name = string(value, path);
    for (std::size_t i = 0; i < kReachabilityNames.size(); ++i) {
      if (name == kReachabilityNames[i]) return static_cast<Reachability>(i);
    }
    fail(path, "unknown reachability " + quote(name) +
                   " (expected not_analyzed, reachable, direct, indirect or cycle)");
  }

  std::vector<Trace> traces(const Json& document, const JsonPath& root, std::size_t traceback_count) const {
    const auto read = [&](const Json& item, const JsonPath& path) {
      Trace trace;
      if (const Json* domain = optional(item, "domain")) trace.domain = unsigned_value<DomainId>(*domain, path.member("domain"));
      const auto index = unsigned_member<std::uint32_t>(item, path, "traceback");
      if (index >= traceback_count) {
        fail(path.member("traceback"), "traceback " + std::to_string(index) + " does not exist (/tracebacks has " +
                                           std::to_string(traceback_count) + " entries)");
      }
      trace.traceback = TracebackIndex{index};
      trace.size = unsigned_member<std::uint64_t>(item, path, "size");
      trace.count = unsigned_member<std::uint64_t>(item, path, "count");
      if (const Json* value = optional(item, "reachability")) trace.reachability = reachability(*value, path.member("reachability"));
      return trace;
    };
    return objects(required(document, root, "traces"), root.member("traces"), read);
  }

  TracebackIndex traceback_reference(const Json& value, const JsonPath& path, std::size_t traceback_count) const {
    const auto index = unsigned_value<std::uint32_t>(value, path);
    if (index >= traceback_count) {
      fail(path, "traceback " + std::to_string(index) + " does not exist (/tracebacks has " +
                     std::to_string(traceback_count) + " entries)");
    }
    return TracebackIndex{index};
  }

  ThreadStop thread_stop(const Json& value, const JsonPath& path) const {
    require_object(value, path);
    ThreadStop stop;
    const JsonPath method_path = path.member("method");
    const std::string method = string(required(value, path, "method"), method_path);
    if (method == stop_method_name(StopMethod::Ptrace)) {
      stop.method = StopMethod::Ptrace;
    } else if (method == stop_method_name(StopMethod::Signals)) {
      stop.method = StopMethod::Signals;
    } else if (method != stop_method_name(StopMethod::None)) {
      fail(method_path, "unknown method " + quote(method) + " (expected ptrace, signals or none)");
    }
    if (const Json* reason = optional(value, "fallback_reason")) stop.fallback_reason = string(*reason, path.member("fallback_reason"));
    stop.threads_scanned = unsigned_member<std::uint64_t>(value, path, "threads_scanned");
    stop.threads_unscanned = unsigned_member<std::uint64_t>(value, path, "threads_unscanned");
    return stop;
  }

  std::vector<FreeError> free_errors(const Json& value, const JsonPath& path, std::size_t traceback_count) const {
    const auto read = [&](const Json& item, const JsonPath& error_path) {
      FreeError error;
      const JsonPath kind_path = error_path.member("kind");
      const std::string kind = string(required(item, error_path, "kind"), kind_path);
      if (kind == kFreeErrorNames[0]) {
        error.kind = FreeErrorKind::DoubleFree;
      } else if (kind == kFreeErrorNames[1]) {
        error.kind = FreeErrorKind::InvalidFree;
      } else {
        fail(kind_path, "unknown kind " + quote(kind) + " (expected double_free or invalid_free)");
      }
      error.freed_at = traceback_reference(required(item, error_path, "freed_at"), error_path.member("freed_at"), traceback_count);
      if (const Json* allocated = optional(item, "allocated_at"); allocated != nullptr && !allocated->is_null()) {
        error.allocated_at = traceback_reference(*allocated, error_path.member("allocated_at"), traceback_count);
      }
      error.count = unsigned_member<std::uint64_t>(item, error_path, "count");
      error.address = address(required(item, error_path, "address"), error_path.member("address"));
      return error;
    };
    return objects(value, path, read);
  }

  // `traceback_costs`: what copying each traceback costs (see kMaxExpansion).
  std::vector<Cycle> cycles(const Json& value, const JsonPath& path, const std::vector<std::uint64_t>& traceback_costs) const {
    const std::size_t traceback_count = traceback_costs.size();
    const auto member = [&](const Json& item, const JsonPath& member_path) {
      CycleMember result;
      result.address = address(required(item, member_path, "address"), member_path.member("address"));
      result.size = unsigned_member<std::uint64_t>(item, member_path, "size");
      const auto traceback = unsigned_member<std::uint32_t>(item, member_path, "traceback");
      result.traceback = TracebackIndex{traceback};
      // An index out of range is reported by cycle_defect, with the whole cycle read.
      if (traceback < traceback_count) expand(traceback_costs[traceback], member_path.member("traceback"));
      return result;
    };
    const auto edge = [&](const Json& item, const JsonPath& edge_path) {
      CycleEdge result;
      result.from = unsigned_member<std::uint32_t>(item, edge_path, "from");
      result.to = unsigned_member<std::uint32_t>(item, edge_path, "to");
      const Json& offset = required(item, edge_path, "offset");
      if (offset.is_null()) {
        result.offset = kUnknownEdgeOffset;
      } else {
        result.offset = unsigned_value<std::uint64_t>(offset, edge_path.member("offset"));
        if (result.offset == kUnknownEdgeOffset) {
          fail(edge_path.member("offset"), describe(offset) + " is reserved: an unknown offset is null");
        }
      }
      return result;
    };
    const auto read = [&](const Json& item, const JsonPath& cycle_path) {
      Cycle cycle;
      cycle.members = objects(required(item, cycle_path, "members"), cycle_path.member("members"), member);
      cycle.edges = objects(required(item, cycle_path, "edges"), cycle_path.member("edges"), edge);
      cycle.bytes = unsigned_member<std::uint64_t>(item, cycle_path, "bytes");
      if (const Json* reachable = optional(item, "reachable")) cycle.reachable = boolean(*reachable, cycle_path.member("reachable"));
      if (auto defect = cycle_defect(cycle, traceback_count)) {
        throw SnapshotError(source_, cycle_path.pointer() + defect->where, defect->reason);
      }
      return cycle;
    };
    return objects(value, path, read);
  }

  const std::string& source_;
  const std::uint64_t budget_;          // bytes of frames all references together may copy
  mutable std::uint64_t expanded_ = 0;  // bytes of frames copied so far
};

// Builds the document from a SAX parse and stops it at a nesting depth no snapshot has: nlohmann's
// binary readers recurse once per level, so a few hundred kilobytes of nested CBOR arrays would
// otherwise overflow the stack.
class DepthLimitedBuilder {
 public:
  static constexpr std::size_t kMaxDepth = 32;  // a snapshot nests 5 levels deep

  bool null() { return add(Json(nullptr)); }
  bool boolean(bool value) { return add(Json(value)); }
  bool number_integer(Json::number_integer_t value) { return add(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return add(Json(value)); }
  bool number_float(Json::number_float_t value, const std::string&) { return add(Json(value)); }
  bool string(std::string& value) { return add(Json(std::move(value))); }
  bool binary(Json::binary_t& value) { return add(Json(std::move(value))); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool key(std::string& name) {
    key_ = std::move(name);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) {
    error_at_ = position;
    error_ = error.what();
    if (const auto end = error_.find("] "); end != std::string::npos) error_.erase(0, end + 2);
    return false;
  }

  Json& document() { return root_; }
  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }
  std::size_t error_at() const { return error_at_; }

 private:
  bool add(Json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return true;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
    } else {
      parent[key_] = std::move(value);
    }
    return true;
  }
  bool open(Json container) {
    if (open_.size() >= kMaxDepth) {
      too_deep_ = true;
      return false;
    }
    Json* placed = nullptr;
    if (open_.empty()) {
      root_ = std::move(container);
      placed = &root_;
    } else if (Json& parent = *open_.back(); parent.is_array()) {
      parent.push_back(std::move(container));
      placed = &parent.back();
    } else {
      placed = &(parent[key_] = std::move(container));
    }
    open_.push_back(placed);
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  Json root_;
  std::vector<Json*> open_;  // the containers being filled, outermost first
  std::string key_;
  bool too_deep_ = false;
  std::string error_;
  std::size_t error_at_ = 0;
};

// nlohmann's CBOR reader also recurses where the builder cannot see it: into the chunks of an
// indefinite-length string, which it lets be indefinite strings themselves (RFC 8949 3.2.3 forbids
// that), so a megabyte of 0x7f bytes overflowed the stack. This walk finds such a chunk before nlohmann
// reads anything and returns its offset. Whatever else is malformed it leaves for nlohmann to report,
// which reads the bytes in the same order: the walk stops where nlohmann would fail, or earlier.
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

// Turns nlohmann's parse error into "line L, column C (byte B)" and a reason without the echo of the
// input it quotes (which may hold control characters or invalid UTF-8).
[[noreturn]] void fail_parse(const Json::parse_error& error, std::string_view text, const std::string& source) {
  const std::size_t offset = std::min<std::size_t>(error.byte == 0 ? 0 : error.byte - 1, text.size());
  const std::string_view before = text.substr(0, offset);
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t last_newline = before.rfind('\n');
  const std::size_t column = last_newline == std::string_view::npos ? offset + 1 : offset - last_newline;
  std::string position = "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
                         std::to_string(offset) + ")";
  if (text.empty()) throw SnapshotError(source, "", "empty file: not a heapsnap snapshot");

  std::string detail = error.what();
  if (const auto start = detail.find("syntax error"); start != std::string::npos) detail.erase(0, start);
  if (const auto echo = detail.find("; last read:"); echo != std::string::npos) {
    const auto expected = detail.find("; expected", echo);
    detail.erase(echo, expected == std::string::npos ? std::string::npos : expected - echo);
  }
  const bool truncated = error.byte > text.size();
  throw SnapshotError(source, std::move(position), (truncated ? "truncated JSON: " : "not valid JSON: ") + detail);
}

// ---------------------------------------------------------------------------------------------------
// Files

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close's error, which for a written file can be the write error.
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

// A minimal output streambuf over a file descriptor; keeps the errno of the first failed write.
class FdOutputBuffer : public std::streambuf {
 public:
  // The buffer is on the heap: this may run on a small thread stack in the profiled process. Left
  // uninitialized: clearing 64 KiB cost a small process's exit snapshot more than writing it.
  explicit FdOutputBuffer(int fd) : fd_(fd), buffer_(new char[kBufferBytes]) { setp(buffer_.get(), buffer_.get() + kBufferBytes); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool flush_buffer() {
    for (const char* data = pbase(); data < pptr();) {
      const ssize_t written = ::write(fd_, data, static_cast<std::size_t>(pptr() - data));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_ = written < 0 ? errno : EIO;
        return false;
      }
      data += written;
    }
    setp(buffer_.get(), buffer_.get() + kBufferBytes);
    return true;
  }

  int fd_;
  int error_ = 0;
  static constexpr std::size_t kBufferBytes = 64 * 1024;
  std::unique_ptr<char[]> buffer_;
};

std::runtime_error file_error(const std::filesystem::path& path, const std::string& reason) {
  return std::runtime_error(path.string() + ": " + reason);
}

// Flushes the directory entry of a rename or link to disk; filesystems that cannot are ignored.
void sync_directory(const std::filesystem::path& directory) {
  const FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

}  // namespace

Snapshot parse_snapshot_json(std::string_view text, const std::string& source_name) {
  Json document;
  try {
    document = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    fail_parse(error, text, source_name);
  } catch (const Json::exception& error) {
    // E.g. out_of_range for a number too large for a double: no position is known.
    std::string detail = error.what();
    if (const auto end = detail.find("] "); end != std::string::npos) detail.erase(0, end + 2);
    throw SnapshotError(source_name, "", "not valid JSON: " + detail);
  }
  return SchemaReader(source_name, text.size()).snapshot(document);
}

Snapshot read_snapshot_json(std::istream& in, const std::string& source_name) {
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw SnapshotError(source_name, "", "read failed");
  return parse_snapshot(text, source_name);
}

Snapshot parse_snapshot(std::string_view bytes, const std::string& source_name) {
  if (!bytes.starts_with(kCborMagic)) return parse_snapshot_json(bytes, source_name);
  const std::string_view cbor = bytes.substr(kCborMagic.size());
  if (const std::optional<std::size_t> nested = nested_indefinite_string(cbor)) {
    throw SnapshotError(source_name, "byte " + std::to_string(kCborMagic.size() + *nested),
                        "not valid CBOR: an indefinite-length string inside another (RFC 8949 forbids it)");
  }
  DepthLimitedBuilder builder;
  bool parsed = false;
  try {
    parsed = Json::sax_parse(cbor.begin(), cbor.end(), &builder, nlohmann::detail::input_format_t::cbor,
                             /*strict=*/true);
  } catch (const Json::exception& error) {
    std::string detail = error.what();
    if (const auto end = detail.find("] "); end != std::string::npos) detail.erase(0, end + 2);
    throw SnapshotError(source_name, "", "not valid CBOR: " + detail);
  }
  if (builder.too_deep()) {
    throw SnapshotError(source_name, "", "nested more than " + std::to_string(DepthLimitedBuilder::kMaxDepth) +
                            " levels deep: not a heapsnap snapshot");
  }
  if (!parsed || !builder.error().empty()) {
    // nlohmann counts the bytes it consumed, the failing one included.
    const std::size_t offset = builder.error_at() == 0 ? 0 : builder.error_at() - 1;
    std::string detail = builder.error();
    if (const auto start = detail.find("syntax error"); start != std::string::npos) detail.erase(0, start);
    const bool truncated = offset >= cbor.size();
    throw SnapshotError(source_name, "byte " + std::to_string(kCborMagic.size() + offset),
                        (truncated ? "truncated CBOR: " : "not valid CBOR: ") + detail);
  }
  return SchemaReader(source_name, bytes.size()).snapshot(builder.document());
}

Snapshot load_snapshot(const std::filesystem::path& path) {
  const std::string name = path.string();
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected below as not a regular file.
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) throw SnapshotError(name, "", errno_text(errno));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) throw SnapshotError(name, "", errno_text(errno));
  if (S_ISDIR(status.st_mode)) throw SnapshotError(name, "", "is a directory");
  if (!S_ISREG(status.st_mode)) throw SnapshotError(name, "", "not a regular file");

  std::string text;
  text.reserve(static_cast<std::size_t>(status.st_size));
  std::array<char, 64 * 1024> chunk;
  for (;;) {
    const ssize_t got = ::read(fd.get(), chunk.data(), chunk.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw SnapshotError(name, "", errno_text(errno));
    if (got == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(got));
  }
  return parse_snapshot(text, name);
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

void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write,
                           ExistingFile existing, Durability durability) {
  if (!path.has_filename()) throw file_error(path, "not a file name");
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";

  // pid + attempt makes the name unique among writers; O_EXCL makes a stale or planted entry (file or
  // symlink) a collision to step over rather than something to follow or truncate.
  std::filesystem::path temporary;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 100 && raw_fd < 0; ++attempt) {
    temporary = directory / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                             std::to_string(attempt));
    raw_fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw_fd < 0 && errno != EEXIST) {
      throw file_error(path, "cannot create a temporary file in " + directory.string() + ": " + errno_text(errno));
    }
  }
  if (raw_fd < 0) throw file_error(path, "cannot create a temporary file: too many stale temporary files");
  FileDescriptor fd(raw_fd);

  bool published = false;
  struct RemoveTemporary {
    const std::filesystem::path& temporary;
    const bool& published;
    ~RemoveTemporary() {
      if (!published) ::unlink(temporary.c_str());
    }
  } remove_temporary{temporary, published};

  ::fchmod(fd.get(), 0600);  // exactly 0600 whatever the umask
  FdOutputBuffer buffer(fd.get());
  std::ostream out(&buffer);
  write(out);
  out.flush();
  if (!out) {
    throw file_error(path, "write failed: " + errno_text(buffer.error() != 0 ? buffer.error() : EIO));
  }
  if (durability == Durability::Flushed && ::fsync(fd.get()) != 0) throw file_error(path, "fsync failed: " + errno_text(errno));
  if (fd.close() != 0) throw file_error(path, "close failed: " + errno_text(errno));

  if (existing == ExistingFile::Replace) {
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw file_error(path, errno_text(errno));
    published = true;
  } else {
    // link() fails with EEXIST instead of replacing: no window in which a file created by someone
    // else since our caller's check could be overwritten.
    if (::link(temporary.c_str(), path.c_str()) != 0) {
      throw file_error(path, errno == EEXIST ? "already exists" : errno_text(errno));
    }
  }
  if (durability == Durability::Flushed) sync_directory(directory);
}

}  // namespace heapsnap
