#include "collector/memory_map.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "runtime/proc_file.h"

namespace heapsnap::collector {
namespace {

// One line of /proc/self/maps: "start-end perms offset dev inode   [name]", addresses in hex.
bool parse_line(std::string_view line, MemoryRegion& region) {
  const char* at = line.data();
  const char* const end = line.data() + line.size();
  auto hex = [&](std::uintptr_t& value) { return std::from_chars(at, end, value, 16); };
  auto [after_start, start_error] = hex(region.start);
  if (start_error != std::errc{} || after_start == end || *after_start != '-') return false;
  at = after_start + 1;
  auto [after_end, end_error] = hex(region.end);
  if (end_error != std::errc{} || end - after_end < 5 || *after_end != ' ') return false;
  at = after_end + 1;
  region.readable = at[0] == 'r';
  region.writable = at[1] == 'w';
  region.shared = at[3] == 's';
  at += 4;
  for (int field = 0; field < 3; ++field) {  // offset, device, inode
    while (at < end && *at == ' ') ++at;
    while (at < end && *at != ' ') ++at;
  }
  while (at < end && *at == ' ') ++at;
  region.name.assign(at, end);
  return true;
}

}  // namespace

MemoryMap MemoryMap::of_this_process() { return from_text(read_proc_file("/proc/self/maps").value_or("")); }

MemoryMap MemoryMap::from_text(std::string_view text) {
  MemoryMap map;
  for_each_piece(text, '\n', [&](std::string_view line) {
    MemoryRegion region;
    if (parse_line(line, region)) map.regions_.push_back(std::move(region));
  });
  std::sort(map.regions_.begin(), map.regions_.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return map;
}

const MemoryRegion* MemoryMap::region_containing(std::uintptr_t address) const {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](std::uintptr_t a, const MemoryRegion& r) { return a < r.start; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

}  // namespace heapsnap::collector
