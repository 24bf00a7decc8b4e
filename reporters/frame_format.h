#pragma once
// How frames and stacks appear in every report: "file:line (function)" in text, and
// {"filename", "lineno", "function"} objects, most recent frame first, in JSON.

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "snapshot/traceback.h"

namespace heapsnap {

// "src/widget.cpp:12 (make_widget)"; the line is left out when unknown (0) and the function when empty
// (frames converted from Python, or grouped by file).
std::string format_frame(const Frame& frame);

// Frames older than those captured, as a text line, or empty when the stack was not truncated.
std::string format_truncation(const Traceback& traceback);

// A stack on lines of its own, most recent frame first, the first line "<indent>at <frame>", the
// others aligned under it; "<unknown>" for an empty stack, then the truncation note if any.
void write_stack(std::ostream& out, const Traceback& traceback, std::string_view indent);

nlohmann::ordered_json frame_to_json(const Frame& frame);
nlohmann::ordered_json traceback_to_json(const Traceback& traceback);  // most recent first

}  // namespace heapsnap
