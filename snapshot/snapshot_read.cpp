// Reading snapshot files: JSON or CBOR (told apart by CBOR's self-describing tag), checked against the
// schema of docs/snapshot-format.md with the position and reason of the first defect.

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <istream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/cbor_guards.h"
#include "snapshot/file_io.h"
#include "snapshot/snapshot_json.h"
#include "snapshot/snapshot_schema.h"

namespace heapsnap {
namespace {

using namespace snapshot_schema;
using cbor_guards::DepthLimitedBuilder;
using cbor_guards::nested_indefinite_string;

std::string errno_text(int error) { return std::strerror(error); }

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
bool is_build_id(const std::string& text) {
  if (text.size() < 2 || text.size() > 128 || text.size() % 2 != 0) return false;
  for (const char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

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
    if (const Json* activity_value = optional(document, "activity")) {
      snapshot.activity = activity(*activity_value, root.member("activity"), snapshot.tracebacks.size());
    }
    if (const Json* view = optional(document, "peak_view")) {
      const JsonPath path = root.member("peak_view");
      require_object(*view, path);
      snapshot.peak_view = PeakView{unsigned_member<std::uint64_t>(*view, path, "total")};
      if (const Json* since = optional(*view, "since")) {
        const std::string value = string(*since, path.member("since"));
        if (value != "tracing_start" && value != "previous_snapshot")
          fail(path.member("since"), "expected \"tracing_start\" or \"previous_snapshot\", got " + quote(value));
        snapshot.peak_view->since_previous_snapshot = value == "previous_snapshot";
      }
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
      if (const Json* build_id = optional(item, "build_id")) {
        frame.build_id = string(*build_id, path.member("build_id"));
        if (!is_build_id(frame.build_id))
          fail(path.member("build_id"), "expected a build-id: 2 to 128 lowercase hexadecimal digits, an even number, got " + quote(frame.build_id));
        frame.offset = address(required(item, path, "offset"), path.member("offset"));
      }
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
      if (const Json* value = optional(item, "before_tracing")) trace.before_tracing = boolean(*value, path.member("before_tracing"));
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

  std::vector<SiteActivity> activity(const Json& value, const JsonPath& path, std::size_t traceback_count) const {
    const auto read = [&](const Json& item, const JsonPath& item_path) {
      SiteActivity result;
      result.traceback = traceback_reference(required(item, item_path, "traceback"), item_path.member("traceback"), traceback_count);
      result.calls = unsigned_member<std::uint64_t>(item, item_path, "calls");
      result.allocated_size = unsigned_member<std::uint64_t>(item, item_path, "allocated_size");
      result.temporary = unsigned_member<std::uint64_t>(item, item_path, "temporary");
      result.peak_size = unsigned_member<std::uint64_t>(item, item_path, "peak_size");
      result.peak_count = unsigned_member<std::uint64_t>(item, item_path, "peak_count");
      if (result.temporary > result.calls)
        fail(item_path.member("temporary"), "more temporary allocations (" + std::to_string(result.temporary) +
                                                ") than allocations (" + std::to_string(result.calls) + ")");
      return result;
    };
    return objects(value, path, read);
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

}  // namespace heapsnap
