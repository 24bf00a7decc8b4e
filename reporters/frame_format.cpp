#include "reporters/frame_format.h"

namespace heapsnap {

std::string format_frame(const Frame& frame) {
  std::string text = frame.filename;
  if (frame.lineno != 0) text += ":" + std::to_string(frame.lineno);
  if (!frame.function.empty()) text += " (" + frame.function + ")";
  return text;
}

std::string format_truncation(const Traceback& traceback) {
  if (traceback.total_nframe <= traceback.frames.size()) return {};
  const auto older = traceback.total_nframe - traceback.frames.size();
  return "... " + std::to_string(older) + (older == 1 ? " older frame" : " older frames") + " not captured";
}

void write_stack(std::ostream& out, const Traceback& traceback, std::string_view indent) {
  const std::string first = std::string(indent) + "at ";
  const std::string rest = std::string(indent) + "   ";
  const std::string* prefix = &first;
  for (const Frame& frame : traceback.frames) {
    out << *prefix << format_frame(frame) << "\n";
    prefix = &rest;
  }
  if (traceback.frames.empty()) out << first << "<unknown>\n";
  if (const std::string note = format_truncation(traceback); !note.empty()) out << rest << note << "\n";
}

nlohmann::ordered_json frame_to_json(const Frame& frame) {
  return {{"filename", frame.filename}, {"lineno", frame.lineno}, {"function", frame.function}};
}

nlohmann::ordered_json traceback_to_json(const Traceback& traceback) {
  auto frames = nlohmann::ordered_json::array();
  for (const Frame& frame : traceback.frames) frames.push_back(frame_to_json(frame));
  return frames;
}

}  // namespace heapsnap
