// Stack capture and interning, through the profiler library directly (this process keeps glibc malloc).

#include <catch2/catch.hpp>

#include <set>
#include <thread>
#include <vector>

#include "runtime/stack_capture.h"
#include "runtime/trace_table.h"

using heapsnap::CapturedStack;
using heapsnap::alloc::SiteTag;

namespace {

CapturedStack synthetic(std::initializer_list<std::uintptr_t> frames, std::uint32_t total = 0) {
  CapturedStack stack;
  for (std::uintptr_t frame : frames) stack.frames[stack.depth++] = frame;
  stack.total = total != 0 ? total : stack.depth;
  return stack;
}

[[gnu::noinline]] void capture_here(CapturedStack& out, std::uint32_t limit) {
  heapsnap::capture_stack(out, limit, 0);
  asm volatile("" ::: "memory");  // no tail call: this frame must be on the stack
}

}  // namespace

TEST_CASE("identical stacks intern to one tag, different stacks to different tags") {
  const SiteTag a = heapsnap::intern_stack(synthetic({0x1000, 0x2000, 0x3000}));
  const SiteTag again = heapsnap::intern_stack(synthetic({0x1000, 0x2000, 0x3000}));
  const SiteTag other_order = heapsnap::intern_stack(synthetic({0x2000, 0x1000, 0x3000}));
  const SiteTag shorter = heapsnap::intern_stack(synthetic({0x1000, 0x2000}));
  const SiteTag truncated = heapsnap::intern_stack(synthetic({0x1000, 0x2000, 0x3000}, 40));
  CHECK(a >= SiteTag::FirstTraced);
  CHECK(a == again);
  CHECK(std::set<SiteTag>{a, other_order, shorter, truncated}.size() == 4);

  const heapsnap::TraceRecord* record = heapsnap::trace_record(a);
  REQUIRE(record != nullptr);
  CHECK(record->depth == 3);
  CHECK(record->frames[0] == 0x1000);
  CHECK(record->frames[2] == 0x3000);
  CHECK(heapsnap::trace_record(truncated)->total == 40);
  CHECK(heapsnap::trace_record(SiteTag::Untraced) == nullptr);
  CHECK(heapsnap::trace_record(SiteTag::Internal) == nullptr);
  CHECK(heapsnap::trace_record(static_cast<SiteTag>(0xfffffff0)) == nullptr);
}

TEST_CASE("many distinct stacks from many threads: each interned exactly once") {
  constexpr int kThreads = 4;
  constexpr std::uintptr_t kStacks = 20000;  // forces the table to grow several times
  std::vector<std::vector<SiteTag>> tags(kThreads, std::vector<SiteTag>(kStacks));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &tags] {
      for (std::uintptr_t i = 0; i < kStacks; ++i) {
        const std::uintptr_t n = (i * 7919 + static_cast<std::uintptr_t>(t) * 104729) % kStacks;  // each thread its own order
        tags[static_cast<std::size_t>(t)][n] = heapsnap::intern_stack(synthetic({0xabc000 + n, 0xdef000 + n % 17}));
      }
    });
  for (auto& thread : threads) thread.join();
  std::set<SiteTag> distinct;
  for (std::uintptr_t n = 0; n < kStacks; ++n) {
    for (int t = 1; t < kThreads; ++t) REQUIRE(tags[static_cast<std::size_t>(t)][n] == tags[0][n]);
    distinct.insert(tags[0][n]);
    const auto* record = heapsnap::trace_record(tags[0][n]);
    REQUIRE(record != nullptr);
    REQUIRE(record->frames[0] == 0xabc000 + n);
  }
  CHECK(distinct.size() == kStacks);
  CHECK(heapsnap::trace_table_bytes() > 0);
}

TEST_CASE("capture_stack records return addresses, respects the limit and counts the whole stack") {
  CapturedStack deep;
  capture_here(deep, 64);
  REQUIRE(deep.depth >= 3);  // capture_here, this test function, Catch2's invoker, ...
  CHECK(deep.total == deep.depth);
  CapturedStack shallow;
  capture_here(shallow, 2);
  CHECK(shallow.depth == 2);
  CHECK(shallow.total == deep.total);
  CHECK(shallow.frames[0] == deep.frames[0]);  // the same return address inside capture_here
  CHECK(shallow.frames[1] != deep.frames[1]);  // two different call sites in this test
}

