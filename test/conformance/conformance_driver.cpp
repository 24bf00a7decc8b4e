// heapsnap's side of the CPython conformance test (tracemalloc_conformance.py): reads a batch of cases
// as JSON on stdin, runs each case's operations with heapsnap's analysis API and writes the results
// as JSON on stdout, in the shape the Python side produces them with tracemalloc. Test-only.
//
// Input:  {"cases": [{"snapshots": [SNAPSHOT...], "ops": [OP...]}...]}
//   SNAPSHOT: {"traceback_limit": N, "traces": [[domain, size, count, FRAMES, total_nframe]...]}
//   FRAMES:   [[filename, lineno]...], most recent first
//   OP:       {"op": "statistics", "snapshot": i, "key": KEY, "cumulative": bool}
//             {"op": "compare_to", "new": i, "old": j, "key": KEY, "cumulative": bool}
//             {"op": "filter", "snapshot": i, "filters": [FILTER...]}  (appends the result to the snapshots)
//             {"op": "format", "frames": FRAMES, "limit": int|null, "most_recent_first": bool}
//             {"op": "display_top", "snapshot": i, "key": KEY, "limit": N}
//             {"op": "format_size", "values": [number...], "sign": bool}
//             {"op": "fnmatch", "pairs": [[name, pattern]...]}
//   FILTER:   {"kind": "filter", "inclusive", "pattern", "lineno": int|null, "all_frames", "domain": int|null}
//             {"kind": "domain", "inclusive", "domain"}
// Output: {"results": [[RESULT per op]...]}; an operation that throws gives {"error": "ValueError"},
// tracemalloc's exception for the same misuse.

#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "reporters/display_top.h"
#include "snapshot/format_size.h"
#include "snapshot/statistics.h"
#include "snapshot/text_forms.h"

namespace {

using Json = nlohmann::json;
using namespace heapsnap;

GroupBy group_by(const std::string& key) {
  if (key == "lineno") return GroupBy::Lineno;
  if (key == "filename") return GroupBy::Filename;
  return GroupBy::Traceback;
}

Traceback traceback_of(const Json& frames, std::uint32_t total_nframe) {
  Traceback traceback;
  for (const Json& item : frames) {
    Frame frame;
    frame.filename = item[0].get<std::string>();
    frame.lineno = item[1].get<std::uint32_t>();
    traceback.frames.push_back(std::move(frame));
  }
  traceback.total_nframe = total_nframe;
  return traceback;
}

Json frames_of(const Traceback& traceback) {
  Json frames = Json::array();
  for (const Frame& frame : traceback.frames) frames.push_back(Json::array({frame.filename, frame.lineno}));
  return frames;
}

Snapshot snapshot_of(const Json& input) {
  Snapshot snapshot;
  snapshot.traceback_limit = input["traceback_limit"].get<std::uint32_t>();
  std::map<std::pair<std::string, std::uint32_t>, std::uint32_t> interned;  // (frames as JSON, total) -> index
  for (const Json& item : input["traces"]) {
    const auto total_nframe = item[4].get<std::uint32_t>();
    const auto [it, inserted] =
        interned.try_emplace({item[3].dump(), total_nframe}, static_cast<std::uint32_t>(snapshot.tracebacks.size()));
    if (inserted) snapshot.tracebacks.push_back(traceback_of(item[3], total_nframe));
    Trace trace;
    trace.domain = item[0].get<DomainId>();
    trace.size = item[1].get<std::uint64_t>();
    trace.count = item[2].get<std::uint64_t>();
    trace.traceback = TracebackIndex{it->second};
    snapshot.traces.push_back(trace);
  }
  return snapshot;
}

// The traces of a snapshot, summed per (domain, frames, total_nframe) and sorted: how filter results
// compare whether or not either side aggregated blocks.
Json normalized_traces(const Snapshot& snapshot) {
  std::map<std::tuple<DomainId, std::string, std::uint32_t>, std::pair<std::uint64_t, std::uint64_t>> sums;
  for (const Trace& trace : snapshot.traces) {
    const Traceback& traceback = snapshot.traceback_of(trace);
    auto& [size, count] = sums[{trace.domain, frames_of(traceback).dump(), traceback.total_nframe}];
    size += trace.size;
    count += trace.count;
  }
  Json result = Json::array();
  for (const auto& [key, totals] : sums) {
    result.push_back(Json::array({std::get<0>(key), Json::parse(std::get<1>(key)), std::get<2>(key), totals.first,
                                  totals.second}));
  }
  return result;
}

TraceFilter filter_of(const Json& input) {
  if (input["kind"] == "domain") return DomainFilter{input["inclusive"].get<bool>(), input["domain"].get<DomainId>()};
  Filter filter;
  filter.inclusive = input["inclusive"].get<bool>();
  filter.filename_pattern = input["pattern"].get<std::string>();
  if (!input["lineno"].is_null()) filter.lineno = input["lineno"].get<std::uint32_t>();
  filter.all_frames = input["all_frames"].get<bool>();
  if (!input["domain"].is_null()) filter.domain = input["domain"].get<DomainId>();
  return filter;
}

Json lines_of(const std::string& text) {
  Json lines = Json::array();
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

Json run(const Json& op, std::vector<Snapshot>& snapshots, LineCache& source) {
  const std::string name = op["op"].get<std::string>();
  if (name == "statistics") {
    Json rows = Json::array();
    for (const Statistic& stat : statistics(snapshots.at(op["snapshot"].get<std::size_t>()),
                                            group_by(op["key"].get<std::string>()), op["cumulative"].get<bool>())) {
      rows.push_back(Json::array({frames_of(stat.traceback), stat.size, stat.count, to_string(stat)}));
    }
    return rows;
  }
  if (name == "compare_to") {
    Json rows = Json::array();
    for (const StatisticDiff& diff :
         compare_to(snapshots.at(op["new"].get<std::size_t>()), snapshots.at(op["old"].get<std::size_t>()),
                    group_by(op["key"].get<std::string>()), op["cumulative"].get<bool>())) {
      rows.push_back(Json::array(
          {frames_of(diff.traceback), diff.size, diff.size_diff, diff.count, diff.count_diff, to_string(diff)}));
    }
    return rows;
  }
  if (name == "filter") {
    std::vector<TraceFilter> filters;
    for (const Json& filter : op["filters"]) filters.push_back(filter_of(filter));
    snapshots.push_back(filter_traces(snapshots.at(op["snapshot"].get<std::size_t>()), filters));
    return normalized_traces(snapshots.back());
  }
  if (name == "format") {
    const Traceback traceback = traceback_of(op["frames"], 0);
    std::optional<std::int64_t> limit;
    if (!op["limit"].is_null()) limit = op["limit"].get<std::int64_t>();
    return format_traceback(traceback, limit, op["most_recent_first"].get<bool>(), source);
  }
  if (name == "display_top") {
    return lines_of(display_top(snapshots.at(op["snapshot"].get<std::size_t>()), group_by(op["key"].get<std::string>()),
                                op["limit"].get<std::size_t>(), source));
  }
  if (name == "format_size") {
    Json texts = Json::array();
    for (const Json& value : op["values"]) texts.push_back(format_size(value.get<double>(), op["sign"].get<bool>()));
    return texts;
  }
  if (name == "fnmatch") {
    Json matches = Json::array();
    for (const Json& pair : op["pairs"]) {
      matches.push_back(fnmatch(pair[0].get<std::string>(), pair[1].get<std::string>()));
    }
    return matches;
  }
  throw std::runtime_error("unknown op " + name);
}

}  // namespace

int main() {
  const Json input = Json::parse(std::cin);
  Json results = Json::array();
  LineCache source;  // one per batch, as Python's linecache is one per process
  for (const Json& test_case : input["cases"]) {
    std::vector<Snapshot> snapshots;
    for (const Json& snapshot : test_case["snapshots"]) snapshots.push_back(snapshot_of(snapshot));
    Json case_results = Json::array();
    for (const Json& op : test_case["ops"]) {
      try {
        case_results.push_back(run(op, snapshots, source));
      } catch (const std::invalid_argument&) {
        case_results.push_back(Json{{"error", "ValueError"}});
      }
    }
    results.push_back(std::move(case_results));
  }
  std::cout << Json{{"results", std::move(results)}}.dump(-1, ' ', false, Json::error_handler_t::strict) << "\n";
  return 0;
}
