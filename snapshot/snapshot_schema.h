#pragma once
// What the snapshot writer and reader share (snapshot_write.cpp, snapshot_read.cpp): the names of the
// enumerations as the file spells them, the JSON dump that never throws on bad UTF-8, and the check of
// a cycle that both apply, so that every file written can be read back.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "snapshot/snapshot.h"

namespace heapsnap::snapshot_schema {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::array<std::string_view, 5> kReachabilityNames = {"not_analyzed", "reachable", "direct",
                                                                 "indirect", "cycle"};
static_assert(kReachabilityNames.size() == static_cast<std::size_t>(Reachability::Cycle) + 1);

constexpr std::array<std::string_view, 2> kFreeErrorNames = {"double_free", "invalid_free"};
static_assert(kFreeErrorNames.size() == static_cast<std::size_t>(FreeErrorKind::InvalidFree) + 1);

// Replaces invalid UTF-8 instead of throwing: argv and paths are arbitrary bytes, and a snapshot with
// a U+FFFD in a file name beats no snapshot.
std::string dump(const OrderedJson& value);

// What makes a cycle unusable, shared by the writer and the reader so that every file written can be
// read back: `where` is the JSON pointer below the cycle ("/members/2/traceback").
struct CycleDefect {
  std::string where;
  std::string reason;
};

std::optional<CycleDefect> cycle_defect(const Cycle& cycle, std::size_t traceback_count);

}  // namespace heapsnap::snapshot_schema
