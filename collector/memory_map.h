#pragma once
// The process's mappings, from /proc/self/maps: where a thread's stack ends, which anonymous memory
// may hold the program's pointers.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heapsnap::collector {

struct MemoryRegion {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;  // exclusive
  bool readable = false;
  bool writable = false;
  bool shared = false;     // MAP_SHARED ("s"), else private ("p")
  std::string name;        // path, "[stack]", "[heap]", or empty for anonymous memory
};

class MemoryMap {
 public:
  static MemoryMap of_this_process();
  // From the text of a /proc/<pid>/maps file; lines that do not parse are skipped.
  static MemoryMap from_text(std::string_view maps);
  // The region holding `address`, or null.
  const MemoryRegion* region_containing(std::uintptr_t address) const;
  const std::vector<MemoryRegion>& regions() const { return regions_; }

 private:
  std::vector<MemoryRegion> regions_;  // sorted by start
};

}  // namespace heapsnap::collector
