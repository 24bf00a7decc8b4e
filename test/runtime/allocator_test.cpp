// The arena allocator through its namespaced API: this test process keeps glibc malloc, so a bug in
// the arena fails a test instead of taking the runner down with it.

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <sys/mman.h>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "allocator/allocator.h"
#include "allocator/c_surface.h"
#include "allocator/invariants.h"
#include "allocator/size_classes.h"

using namespace heapsnap::alloc;

namespace {

constexpr SiteTag site(std::uint32_t n) { return static_cast<SiteTag>(n); }

bool aligned_to(const void* p, std::size_t alignment) { return reinterpret_cast<std::uintptr_t>(p) % alignment == 0; }

// Live blocks as the heap walk sees them, by address.
std::map<void*, BlockInfo> walk() {
  std::map<void*, BlockInfo> blocks;
  walk_heap([](void* context, const BlockInfo& b) { (*static_cast<std::map<void*, BlockInfo>*>(context))[b.address] = b; },
            &blocks);
  return blocks;
}

}  // namespace

TEST_CASE("size classes cover every small size with the smallest class that fits") {
  for (std::size_t size = 1; size <= kMaxSmallSize; ++size) {
    const std::size_t cls = size_class_of(size);
    REQUIRE(cls < kClassCount);
    REQUIRE(kClassSizes[cls] >= size);
    if (cls > 0) REQUIRE(kClassSizes[cls - 1] < size);
  }
}

TEST_CASE("allocate returns distinct, aligned, writable blocks and records site and size") {
  std::vector<void*> blocks;
  for (std::size_t size : {0, 1, 15, 16, 17, 100, 128, 129, 1000, 4096, 5000, 65536, 100000, 131072, 131073, 1 << 22}) {
    void* p = allocate(size, 16, site(7));
    REQUIRE(p != nullptr);
    REQUIRE(aligned_to(p, 16));
    std::memset(p, 0xab, size);
    const BlockInfo info = find_block(p);
    CHECK(info.address == p);
    CHECK(info.requested == size);
    CHECK(info.usable >= size);
    CHECK(info.site == site(7));
    CHECK(usable_size(p) == info.usable);
    blocks.push_back(p);
  }
  CHECK(std::set<void*>(blocks.begin(), blocks.end()).size() == blocks.size());
  for (void* p : blocks) {
    const BlockInfo freed = deallocate(p);
    CHECK(freed.address == p);
    CHECK(freed.site == site(7));
    CHECK(find_block(p).site == SiteTag::Free);
  }
}

TEST_CASE("interior pointers resolve to their block in O(1), small and huge") {
  for (std::size_t size : {48, 3000, 70000, 300000}) {
    auto* p = static_cast<char*>(allocate(size, 16, site(9)));
    for (std::size_t offset : {std::size_t{0}, std::size_t{1}, size / 2, size - 1}) {
      const BlockInfo info = find_block(p + offset);
      CHECK(info.address == p);
      CHECK(info.site == site(9));
    }
    CHECK(usable_size(p + 1) == 0);          // only block starts have a usable size
    CHECK(deallocate(p + 1).site == SiteTag::Free);  // an interior free is refused...
    CHECK(find_block(p).site == site(9));     // ...and leaves the block alone
    deallocate(p);
  }
}

TEST_CASE("a segment's extent is exact: a huge block's mapping ends inside its last unit, the rest is not ours") {
  for (std::size_t size : {std::size_t{300000}, kSegmentSize + kSegmentSize / 4}) {
    auto* p = static_cast<std::byte*>(allocate(size, 16, site(11)));
    const auto end = reinterpret_cast<std::uintptr_t>(p) + usable_size(p);  // the mapping's end
    REQUIRE(end % kSegmentSize != 0);
    CHECK(heap_segment_end(p) == end);
    CHECK(heap_segment_end(reinterpret_cast<const void*>(end - 1)) == end);
    CHECK_FALSE(in_heap_segment(reinterpret_cast<const void*>(end)));
    CHECK_FALSE(in_heap_segment(reinterpret_cast<const void*>((end | (kSegmentSize - 1)))));  // the unit's last byte
    CHECK(diagnose_bad_free(reinterpret_cast<const void*>(end + 64)).kind == BadFreeKind::NotOurs);
    CHECK(diagnose_bad_free(p + 64).kind == BadFreeKind::InvalidPointer);
    deallocate(p);
  }
  void* small = allocate(64, 16, site(11));
  const auto unit = reinterpret_cast<std::uintptr_t>(small) & ~(kSegmentSize - 1);
  CHECK(heap_segment_end(small) == unit + kSegmentSize);
  deallocate(small);
}

TEST_CASE("pointers that are not ours are answered as such") {
  int on_stack = 0;
  static int in_data = 0;
  std::vector<int> from_glibc(10);
  for (const void* p : {static_cast<const void*>(&on_stack), static_cast<const void*>(&in_data),
                        static_cast<const void*>(from_glibc.data()), static_cast<const void*>(nullptr)}) {
    CHECK(find_block(p).site == SiteTag::Free);
    CHECK(usable_size(p) == 0);
  }
  CHECK(deallocate(from_glibc.data()).site == SiteTag::Free);
}

TEST_CASE("double free is detected and leaves the heap consistent") {
  void* p = allocate(64, 16, site(3));
  CHECK(deallocate(p).site == site(3));
  CHECK(deallocate(p).site == SiteTag::Free);
  void* a = allocate(64, 16, site(4));
  void* b = allocate(64, 16, site(4));
  CHECK(a != b);  // the block was not put on the free list twice
  deallocate(a);
  deallocate(b);
  void* huge = allocate(1 << 20, 16, site(5));
  CHECK(deallocate(huge).site == site(5));
  CHECK(deallocate(huge).site == SiteTag::Free);
  CHECK(verify_heap());
}

TEST_CASE("retag changes a live block's site and size, and never a freed block's") {
  void* p = allocate(100, 16, site(21));
  CHECK(retag(p, site(22), 40));
  CHECK(find_block(p).site == site(22));
  CHECK(find_block(p).requested == 40);
  CHECK(deallocate(p).site == site(22));
  CHECK_FALSE(retag(p, site(23), 40));  // freed: it stays free, and a second free is still refused
  CHECK(find_block(p).site == SiteTag::Free);
  CHECK(deallocate(p).site == SiteTag::Free);
  CHECK(diagnose_bad_free(p).allocated_at == site(22));  // the freed block still names its last site
  CHECK(verify_heap());
}

TEST_CASE("verify_heap accepts the heap after churn and catches a free list broken by a write after free") {
  std::vector<void*> blocks;
  for (int i = 0; i < 3000; ++i) blocks.push_back(allocate(static_cast<std::size_t>(i % 700 + 1), 16, site(61)));
  for (std::size_t i = 0; i < blocks.size(); i += 2) deallocate(blocks[i]);
  REQUIRE(verify_heap());

  // The program writes into a block it has freed, over the free list's link: the link now points into
  // the middle of a live block.
  void* live = allocate(48, 16, site(62));
  void* freed = allocate(48, 16, site(62));
  REQUIRE(deallocate(freed).site == site(62));
  auto* link = static_cast<void**>(freed);
  void* const saved = *link;
  *link = static_cast<char*>(live) + 8;
  CHECK_FALSE(verify_heap());
  *link = live;  // a live block on the free list: as wrong
  CHECK_FALSE(verify_heap());
  *link = saved;
  CHECK(verify_heap());

  deallocate(live);
  for (std::size_t i = 1; i < blocks.size(); i += 2) deallocate(blocks[i]);
  CHECK(verify_heap());
}

TEST_CASE("aligned allocation honours every power of two up to beyond a segment") {
  for (std::size_t alignment = 1; alignment <= (std::size_t{8} << 20); alignment *= 2) {
    for (std::size_t size : {std::size_t{1}, std::size_t{100}, alignment, alignment + 1, std::size_t{200000}}) {
      // Several at once: where a mapping lands varies, and a lucky placement must not hide a bug.
      void* blocks[3];
      for (void*& p : blocks) {
        p = allocate(size, alignment, site(11));
        REQUIRE(p != nullptr);
        CHECK(aligned_to(p, alignment < 16 ? 16 : alignment));
        CHECK(find_block(p).requested == size);
        std::memset(p, 1, size);
      }
      for (void* p : blocks) CHECK(deallocate(p).site == site(11));
    }
  }
}

TEST_CASE("the C surface keeps the C contracts") {
  BlockInfo freed;
  SECTION("calloc zeroes and checks overflow") {
    auto* p = static_cast<unsigned char*>(c_malloc(256, site(2)));
    std::memset(p, 0xff, 256);
    deallocate(p);
    auto* q = static_cast<unsigned char*>(c_calloc(16, 16, site(2)));  // likely the same block again
    for (int i = 0; i < 256; ++i) REQUIRE(q[i] == 0);
    deallocate(q);
    errno = 0;
    CHECK(c_calloc(SIZE_MAX / 2, 3, site(2)) == nullptr);
    CHECK(errno == ENOMEM);
    auto* big = static_cast<unsigned char*>(c_calloc(1, 1 << 21, site(2)));
    CHECK(big[0] == 0);
    CHECK(big[(1 << 21) - 1] == 0);
    deallocate(big);
  }
  SECTION("realloc: null, zero, grow, shrink, keep contents, move attribution") {
    void* p = c_realloc(nullptr, 10, site(20), freed);
    CHECK(freed.site == SiteTag::Free);
    std::memcpy(p, "abcdefghi", 10);
    void* q = c_realloc(p, 100000, site(21), freed);
    CHECK(freed.site == site(20));
    CHECK(freed.requested == 10);
    CHECK(std::memcmp(q, "abcdefghi", 10) == 0);
    CHECK(find_block(q).site == site(21));
    void* r = c_realloc(q, 90000, site(22), freed);  // fits in place
    CHECK(r == q);
    CHECK(freed.site == site(21));
    CHECK(find_block(r).requested == 90000);
    CHECK(find_block(r).site == site(22));
    CHECK(c_realloc(r, 0, site(23), freed) == nullptr);
    CHECK(freed.site == site(22));
    CHECK(find_block(r).site == SiteTag::Free);
    errno = 0;
    CHECK(c_reallocarray(nullptr, SIZE_MAX, 2, site(2), freed) == nullptr);
    CHECK(errno == ENOMEM);
  }
  SECTION("realloc of a huge block grows and shrinks its mapping in place, or copies when it cannot grow") {
    const auto fill = [](unsigned char* block, std::size_t size) {
      for (std::size_t i = 0; i < size; i += 4093) block[i] = static_cast<unsigned char>(i / 4093);
    };
    const auto kept = [](const unsigned char* block, std::size_t size) {
      for (std::size_t i = 0; i < size; i += 4093)
        if (block[i] != static_cast<unsigned char>(i / 4093)) return false;
      return true;
    };
    // Whether [start, start + bytes) is unmapped now: a mapping there without replacing anything.
    const auto is_free = [](unsigned char* start, std::size_t bytes) {
      void* probe = mmap(start, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (probe == MAP_FAILED) return false;
      munmap(probe, bytes);
      return probe == start;
    };
    constexpr std::size_t grown = std::size_t{3} << 20;
    constexpr std::size_t first = 200000;
    auto* big = static_cast<unsigned char*>(c_malloc(grown, site(29)));
    fill(big, first);
    // Under half its size: shrunk where it is, and the pages after it are given back.
    auto* p = static_cast<unsigned char*>(c_realloc(big, first, site(30), freed));
    REQUIRE(p == big);
    CHECK(freed.site == site(29));
    CHECK(kept(p, first));
    const std::size_t first_usable = find_block(p).usable;
    CHECK(first_usable < grown / 2);
    CHECK(is_free(p + first_usable, grown - first_usable));

    // Nothing was mapped since: it grows back into those pages, where it is.
    auto* g = static_cast<unsigned char*>(c_realloc(p, grown, site(31), freed));
    CHECK(g == p);
    CHECK(freed.site == site(30));
    CHECK(freed.requested == first);
    CHECK(kept(g, first));
    CHECK(find_block(g).site == site(31));
    CHECK(find_block(g).requested == grown);
    CHECK(find_block(g + grown - 1).address == g);  // an interior pointer in the grown part
    fill(g, grown);

    // Someone else's page right after it: it cannot grow there, so it is copied.
    const std::size_t grown_usable = find_block(g).usable;
    void* blocker = mmap(g + grown_usable, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    REQUIRE(blocker == g + grown_usable);
    constexpr std::size_t copied_size = std::size_t{9} << 20;  // spans three 4 MiB units
    auto* c = static_cast<unsigned char*>(c_realloc(g, copied_size, site(32), freed));
    REQUIRE(c != nullptr);
    CHECK(c != g);
    CHECK(freed.address == g);
    CHECK(freed.site == site(31));
    CHECK(kept(c, grown));
    CHECK(find_block(g).site == SiteTag::Free);
    CHECK(find_block(c + copied_size - 1).address == c);  // an interior pointer in the last unit
    munmap(blocker, 4096);

    auto* s = static_cast<unsigned char*>(c_realloc(c, 300000, site(33), freed));  // under half: shrunk in place
    CHECK(s == c);
    CHECK(freed.site == site(32));
    CHECK(kept(s, 300000));
    CHECK(find_block(s).usable < (std::size_t{1} << 20));
    CHECK(find_block(s).requested == 300000);
    CHECK(heap_segment_end(s) <= reinterpret_cast<std::uintptr_t>(s) + (std::size_t{1} << 20));
    CHECK_FALSE(in_heap_segment(s + (std::size_t{8} << 20)));  // the units past the shrunk mapping are not ours
    CHECK(is_free(s + find_block(s).usable, 4096));              // and its pages went back
    CHECK(deallocate(s).site == site(33));
    CHECK(deallocate(s).site == SiteTag::Free);  // a second free is caught
  }
  SECTION("posix_memalign, aligned_alloc, memalign, valloc, pvalloc") {
    void* p = nullptr;
    CHECK(c_posix_memalign(&p, 3, 8, site(2)) == EINVAL);
    CHECK(c_posix_memalign(&p, 4, 8, site(2)) == EINVAL);  // not a multiple of sizeof(void*)
    REQUIRE(c_posix_memalign(&p, 256, 8, site(2)) == 0);
    CHECK(aligned_to(p, 256));
    deallocate(p);
    errno = 0;
    CHECK(c_aligned_alloc(24, 48, site(2)) == nullptr);
    CHECK(errno == EINVAL);
    p = c_aligned_alloc(4096, 10, site(2));
    CHECK(aligned_to(p, 4096));
    deallocate(p);
    p = c_memalign(48, 10, site(2));  // rounded up to 64
    CHECK(aligned_to(p, 64));
    deallocate(p);
    p = c_valloc(10, site(2));
    CHECK(aligned_to(p, 4096));
    deallocate(p);
    p = c_pvalloc(10, site(2));
    CHECK(aligned_to(p, 4096));
    CHECK(find_block(p).requested == 4096);
    deallocate(p);
  }
  SECTION("out of memory gives null") {
    errno = 0;
    CHECK(c_malloc(SIZE_MAX - 4096, site(2)) == nullptr);
    CHECK(errno == ENOMEM);
  }
}

TEST_CASE("a freed huge block's mapping is reused for the next of its size; calloc still gets zeros") {
  constexpr std::size_t kSize = 3 << 20;
  auto* first = static_cast<unsigned char*>(allocate(kSize, 16, site(40)));
  REQUIRE(first != nullptr);
  std::memset(first, 0xab, kSize);
  REQUIRE(deallocate(first).site == site(40));
  // Kept mapped but not a block: not found, not walked, and a second free is a double free.
  CHECK(find_block(first).site == SiteTag::Free);
  CHECK(walk().count(first) == 0);
  CHECK(deallocate(first).site == SiteTag::Free);
  CHECK(diagnose_bad_free(first).kind == BadFreeKind::DoubleFree);

  auto* second = static_cast<unsigned char*>(allocate_zeroed(kSize - 4096, site(41)));
  REQUIRE(second != nullptr);
  CHECK(second == first);  // the cached mapping
  CHECK(find_block(second).site == site(41));
  CHECK(find_block(second).requested == kSize - 4096);
  bool all_zero = true;
  for (std::size_t i = 0; i < kSize - 4096; ++i) all_zero &= second[i] == 0;
  CHECK(all_zero);
  // A request over twice as small does not take the big mapping.
  REQUIRE(deallocate(second).site == site(41));
  void* small_huge = allocate(kSize / 3, 16, site(42));
  CHECK(small_huge != first);
  deallocate(small_huge);
  void* again = allocate(kSize, 16, site(43));
  CHECK(again == first);
  deallocate(again);
}

TEST_CASE("heapsnap's own freed huge blocks are unmapped, not kept for reuse") {
  const auto mapped = [](void* p) {
    unsigned char resident = 0;
    return mincore(reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095}), 4096, &resident) == 0;
  };
  void* program_block = allocate(2 << 20, 16, site(44));
  void* own_block = allocate(2 << 20, 16, SiteTag::Internal);
  REQUIRE((program_block != nullptr && own_block != nullptr));
  deallocate(program_block);
  deallocate(own_block);
  CHECK(mapped(program_block));  // cached for the program's next big block
  CHECK_FALSE(mapped(own_block));
  deallocate(allocate(2 << 20, 16, site(45)));  // takes the cached one back, and returns it
}

TEST_CASE("the heap walk sees exactly the live blocks") {
  const auto before = walk();
  std::vector<void*> live;
  for (int i = 0; i < 2000; ++i) live.push_back(allocate(static_cast<std::size_t>(i % 700 + 1), 16, site(100 + i % 5)));
  live.push_back(allocate(500000, 16, site(99)));
  for (std::size_t i = 0; i < live.size(); i += 3) deallocate(live[i]);
  auto after = walk();
  for (std::size_t i = 0; i < live.size(); ++i) {
    const bool freed = i % 3 == 0;
    CHECK((after.count(live[i]) == 1) == !freed);
    if (!freed) {
      CHECK(after[live[i]].site == find_block(live[i]).site);
      CHECK(after[live[i]].requested == find_block(live[i]).requested);
    }
  }
  std::size_t new_blocks = 0;
  for (const auto& [address, block] : after) new_blocks += before.count(address) == 0;
  CHECK(new_blocks == live.size() - (live.size() + 2) / 3);
  for (std::size_t i = 0; i < live.size(); ++i)
    if (i % 3 != 0) deallocate(live[i]);
}

TEST_CASE("seeded multithreaded stress with cross-thread frees keeps every block intact") {
  // Not a benchmark: each block carries its owner's pattern; any overlap or lost block fails.
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  std::vector<std::vector<std::pair<unsigned char*, std::size_t>>> handoff(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> corrupted{0};
  std::vector<std::vector<std::pair<unsigned char*, std::size_t>>> produced(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &produced, &corrupted] {
      std::mt19937 rng(1234 + t);
      std::vector<std::pair<unsigned char*, std::size_t>> mine;
      for (int round = 0; round < kRounds; ++round) {
        const std::size_t size = rng() % 4 == 0 ? rng() % 200000 : rng() % 512;
        auto* p = static_cast<unsigned char*>(allocate(size, 16, site(1000 + t)));
        std::memset(p, t + 1, size);
        mine.emplace_back(p, size);
        if (rng() % 2 == 0 && !mine.empty()) {
          const std::size_t victim = rng() % mine.size();
          auto [q, n] = mine[victim];
          for (std::size_t i = 0; i < n; ++i)
            if (q[i] != t + 1) corrupted++;
          if (deallocate(q).site != site(1000 + t)) corrupted++;
          mine[victim] = mine.back();
          mine.pop_back();
        }
      }
      produced[t] = std::move(mine);
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(corrupted == 0);
  // Free every thread's leftovers from other threads (remote frees into exited threads' heaps).
  std::vector<std::thread> freers;
  for (int t = 0; t < kThreads; ++t) {
    freers.emplace_back([t, &produced, &corrupted] {
      for (auto [p, n] : produced[(t + 1) % kThreads]) {
        for (std::size_t i = 0; i < n; ++i)
          if (p[i] != (t + 1) % kThreads + 1) corrupted++;
        if (deallocate(p).site == SiteTag::Free) corrupted++;
      }
    });
  }
  for (auto& thread : freers) thread.join();
  CHECK(corrupted == 0);
  std::size_t leftover = 0;
  for (const auto& [address, block] : walk())
    if (static_cast<std::uint32_t>(block.site) >= 1000 && static_cast<std::uint32_t>(block.site) < 1000 + kThreads) ++leftover;
  CHECK(leftover == 0);
}

TEST_CASE("a forked child can allocate, free and walk, while another thread was mid-allocation") {
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop) deallocate(allocate(64, 16, site(50)));
  });
  void* shared = allocate(1000, 16, site(51));
  const pid_t child = fork();
  if (child == 0) {
    after_fork_in_child();
    bool ok = find_block(shared).site == site(51);
    std::vector<void*> blocks;
    for (int i = 0; i < 10000; ++i) blocks.push_back(allocate(static_cast<std::size_t>(i % 300), 16, site(52)));
    for (void* p : blocks) ok = ok && deallocate(p).site == site(52);
    ok = ok && deallocate(shared).site == site(51);
    _exit(ok ? 0 : 1);
  }
  stop = true;
  busy.join();
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  deallocate(shared);
}

TEST_CASE("threads that exit give their heap to the next thread") {
  const std::size_t before = metadata_bytes();
  for (int i = 0; i < 50; ++i) {
    std::thread([] {
      void* p = allocate(100, 16, site(60));
      deallocate(p);
    }).join();
  }
  // 50 sequential threads reuse one or two heaps instead of creating 50.
  CHECK(metadata_bytes() - before < 8 * 4096 + 4 * (1 << 16));
}
