#include "collector/memory_map.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace heapsnap::collector {

MemoryMap MemoryMap::of_this_process() {
  MemoryMap map;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    MemoryRegion region;
    char permissions[8] = {};
    int name_at = 0;
    unsigned long start = 0;
    unsigned long end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %*s %*s %*s %n", &start, &end, permissions, &name_at) < 3) continue;
    region.start = start;
    region.end = end;
    region.readable = permissions[0] == 'r';
    region.writable = permissions[1] == 'w';
    region.shared = permissions[3] == 's';
    if (name_at > 0 && static_cast<std::size_t>(name_at) < line.size()) region.name = line.substr(static_cast<std::size_t>(name_at));
    map.regions_.push_back(std::move(region));
  }
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
