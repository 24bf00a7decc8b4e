#pragma once
// Writes report JSON. Invalid UTF-8 in names (paths and symbols are arbitrary bytes) is replaced by
// U+FFFD instead of making nlohmann::json throw halfway through a report.

#include <ostream>

#include <nlohmann/json.hpp>

namespace heapsnap {

inline void write_json(std::ostream& out, const nlohmann::ordered_json& value) {
  out << value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

}  // namespace heapsnap
