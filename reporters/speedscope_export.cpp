#include "reporters/speedscope_export.h"

#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "reporters/export_stacks.h"

namespace heapsnap {

SpeedscopeExporter::SpeedscopeExporter(const Snapshot& snapshot, std::string name)
    : snapshot_(snapshot), name_(std::move(name)) {}

void SpeedscopeExporter::render(std::ostream& out) const {
  using Json = nlohmann::ordered_json;
  Json frames = Json::array();
  std::map<Frame, std::size_t> frame_index;  // by identity
  Json samples = Json::array();
  Json weights = Json::array();
  std::uint64_t total = 0;
  for (const WeightedStack& stack : weighted_stacks(snapshot_)) {
    if (stack.bytes == 0) continue;  // blocks of 0 bytes weigh nothing in a byte profile
    Json sample = Json::array();
    for (auto frame = stack.frames->rbegin(); frame != stack.frames->rend(); ++frame) {  // root first
      const auto [entry, added] = frame_index.try_emplace(*frame, frame_index.size());
      if (added) {
        Json info = {{"name", export_frame_name(*frame)}, {"file", frame->filename}};
        if (frame->lineno != 0) info["line"] = frame->lineno;
        frames.push_back(std::move(info));
      }
      sample.push_back(entry->second);
    }
    samples.push_back(std::move(sample));
    weights.push_back(stack.bytes);
    total += stack.bytes;
  }
  const Json document = {
      {"$schema", "https://www.speedscope.app/file-format-schema.json"},
      {"exporter", "heapsnap " HEAPSNAP_VERSION},
      {"name", name_},
      {"activeProfileIndex", 0},
      {"shared", {{"frames", std::move(frames)}}},
      {"profiles",
       Json::array({{{"type", "sampled"},
                     {"name", "live memory of " + name_},
                     {"unit", "bytes"},
                     {"startValue", 0},
                     {"endValue", total},
                     {"samples", std::move(samples)},
                     {"weights", std::move(weights)}}})},
  };
  // One line: the file is for programs, and a sample per line would multiply its size.
  out << document.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace heapsnap
