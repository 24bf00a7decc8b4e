#include "reporters/export/speedscope_export.h"

#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "reporters/export/export_stacks.h"

namespace heapsnap {

SpeedscopeExporter::SpeedscopeExporter(const Snapshot& snapshot, std::string name)
    : snapshot_(snapshot), name_(std::move(name)) {}

void SpeedscopeExporter::render(std::ostream& out) const {
  using Json = nlohmann::ordered_json;
  const ExportStacks exported = weighted_stacks(snapshot_);
  Json frames = Json::array();
  constexpr std::size_t kUnused = ~std::size_t{0};
  std::vector<std::size_t> frame_index(exported.frames.size(), kUnused);  // speedscope's, in order of use
  Json samples = Json::array();
  Json weights = Json::array();
  std::uint64_t total = 0;
  for (const WeightedStack& stack : exported.stacks) {
    if (stack.bytes == 0) continue;  // blocks of 0 bytes weigh nothing in a byte profile
    Json sample = Json::array();
    for (auto id = stack.frames.rbegin(); id != stack.frames.rend(); ++id) {  // root first
      if (frame_index[*id] == kUnused) {
        const Frame& frame = *exported.frames[*id];
        frame_index[*id] = frames.size();
        Json info = {{"name", export_frame_name(frame)}, {"file", frame.filename}};
        if (frame.lineno != 0) info["line"] = frame.lineno;
        frames.push_back(std::move(info));
      }
      sample.push_back(frame_index[*id]);
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
