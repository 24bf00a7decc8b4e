// The parts of the root gathering that need no tracing (collector/root_set.h, memory_map.h), linked
// statically so that heapsnap's internals are callable: which ranges become roots, and how
// /proc/self/maps is read. The verdicts themselves are tested through the preload (roots_test.cpp).

#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "allocator/allocator.h"
#include "allocator/config.h"
#include "allocator/os.h"
#include "collector/memory_map.h"
#include "collector/root_set.h"
#include "runtime/proc_file.h"

namespace {

alignas(4096) std::uintptr_t g_bookkeeping_table[2048];  // four pages of globals, as the preload's tables

bool roots_cover(const heapsnap::collector::RootSet& roots, const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  for (const auto& range : roots.ranges) {
    const auto begin = reinterpret_cast<std::uintptr_t>(range.begin);
    if (at >= begin && at < begin + range.bytes) return true;
  }
  return false;
}

heapsnap::collector::RootSet gather() {
  return heapsnap::collector::gather_roots(heapsnap::collector::MemoryMap::of_this_process(),
                                           heapsnap::collector::module_globals(), {}, true);
}

}  // namespace

TEST_CASE("globals registered as heapsnap's bookkeeping are left out of the module's globals, and only they") {
  std::memset(g_bookkeeping_table, 0x5a, sizeof g_bookkeeping_table);  // resident: a root candidate
  static std::uintptr_t ordinary_global = 1;
  REQUIRE(roots_cover(gather(), &g_bookkeeping_table[1000]));
  REQUIRE(roots_cover(gather(), &ordinary_global));

  // The middle two pages only: what lies on either side stays a root.
  heapsnap::alloc::register_internal_memory(&g_bookkeeping_table[512], 1024 * sizeof(std::uintptr_t));
  const auto roots = gather();
  CHECK_FALSE(roots_cover(roots, &g_bookkeeping_table[512]));
  CHECK_FALSE(roots_cover(roots, &g_bookkeeping_table[1535]));
  CHECK(roots_cover(roots, &g_bookkeeping_table[511]));
  CHECK(roots_cover(roots, &g_bookkeeping_table[1536]));
  CHECK(roots_cover(roots, &ordinary_global));
}

TEST_CASE("memory mapped right after a huge block, in the block's last segment unit, is scanned") {
  // A huge block's mapping is segment-aligned but ends where its size does; the kernel hands the rest
  // of that unit to the next mapping, which may be a library's data (where stdout's buffer pointer is).
  const std::size_t size = heapsnap::alloc::kSegmentSize + heapsnap::alloc::kSegmentSize / 4;
  void* huge = heapsnap::alloc::allocate(size, 16, heapsnap::alloc::SiteTag::FirstTraced);
  REQUIRE(huge != nullptr);
  const auto end = reinterpret_cast<std::uintptr_t>(huge) + heapsnap::alloc::usable_size(huge);
  REQUIRE(end % heapsnap::alloc::kSegmentSize != 0);
  void* neighbour = mmap(reinterpret_cast<void*>(end), 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  REQUIRE(neighbour == reinterpret_cast<void*>(end));  // the allocator gave the unit's tail back
  std::memset(neighbour, 0x5a, 4096);                    // resident
  const auto roots = gather();
  CHECK(roots_cover(roots, neighbour));
  CHECK(roots_cover(roots, static_cast<char*>(neighbour) + 4095));
  CHECK_FALSE(roots_cover(roots, huge));
  munmap(neighbour, 4096);
  heapsnap::alloc::deallocate(huge);
}

TEST_CASE("/proc/self/maps lines parse, names with spaces and deleted files included") {
  const auto map = heapsnap::collector::MemoryMap::from_text(
      "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f0000000000-7f0000001000 rw-s 00001000 08:01 1234                       /tmp/with space/f (deleted)\n"
      "not a mapping line\n"
      "7f1000000000-7f1000004000 r--p 00000000 00:00 0 \n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]");
  const auto& regions = map.regions();
  REQUIRE(regions.size() == 4);
  CHECK(regions[0].start == 0x55d0c0a00000);
  CHECK(regions[0].end == 0x55d0c0a21000);
  CHECK(regions[0].name == "[heap]");
  CHECK((regions[0].readable && regions[0].writable && !regions[0].shared));
  CHECK(regions[1].name == "/tmp/with space/f (deleted)");
  CHECK(regions[1].shared);
  CHECK(regions[2].name.empty());
  CHECK((regions[2].readable && !regions[2].writable));
  CHECK(regions[3].name == "[stack]");
  CHECK(map.region_containing(0x7f0000000fff) == &regions[1]);
  CHECK(map.region_containing(0x7f0000001000) == nullptr);
}

TEST_CASE("the map of this process has its stack and its own code") {
  const auto map = heapsnap::collector::MemoryMap::of_this_process();
  int local = 0;
  const auto* stack = map.region_containing(reinterpret_cast<std::uintptr_t>(&local));
  REQUIRE(stack != nullptr);
  CHECK((stack->readable && stack->writable));
  const auto* globals = map.region_containing(reinterpret_cast<std::uintptr_t>(&g_bookkeeping_table[0]));
  REQUIRE(globals != nullptr);
  CHECK(globals->writable);
}

TEST_CASE("/proc status fields and NUL-separated pieces are read as the kernel writes them") {
  const std::string_view status = "Name:\tcat\nState:\tS (sleeping)\nSigBlk:\t0000000000010000\nVmSwap:\t       0 kB\n";
  CHECK(heapsnap::proc_status_field(status, "State") == "S (sleeping)");
  CHECK(heapsnap::proc_status_field(status, "SigBlk") == "0000000000010000");
  CHECK(heapsnap::proc_status_field(status, "VmSwap") == "0 kB");
  CHECK(heapsnap::proc_status_field(status, "Sig").empty());  // a prefix of a name is not the name
  CHECK(heapsnap::proc_status_field(status, "Threads").empty());

  std::vector<std::string> arguments;
  heapsnap::for_each_piece(std::string_view("prog\0-x\0\0last\0", 14), '\0',
                           [&](std::string_view piece) { arguments.emplace_back(piece); });
  CHECK(arguments == std::vector<std::string>{"prog", "-x", "", "last"});
  const auto status_of_self = heapsnap::read_proc_file("/proc/self/status");
  REQUIRE(status_of_self.has_value());
  CHECK(heapsnap::proc_status_field(*status_of_self, "Name").size() > 0);
}
