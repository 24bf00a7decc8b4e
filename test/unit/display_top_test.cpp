// The display_top() recipe of tracemalloc's documentation; expected text produced by the recipe in
// CPython 3.11 on the same snapshot (test/conformance compares it on random snapshots too).

#include <catch2/catch.hpp>

#include "reporters/display_top.h"
#include "test/support/snapshot_factory.h"
#include "test/support/temp_directory.h"

using namespace heapsnap;
using namespace heapsnap::test;

TEST_CASE("display_top by line drops <unknown> and sums the rest", "[display_top]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  CHECK(display_top(snapshot, GroupBy::Lineno, 2) ==
        "Top 2 lines\n"
        "#1: b.py:1: 0.1 KiB\n"
        "#2: a.py:2: 0.0 KiB\n"
        "1 other: 0.0 KiB\n"
        "Total allocated size: 0.1 KiB\n");
}

TEST_CASE("display_top by traceback shows each stack's oldest frame", "[display_top]") {
  const auto [snapshot, snapshot2] = create_snapshots();
  CHECK(display_top(snapshot, GroupBy::Traceback) ==
        "Top 10 lines\n"
        "#1: b.py:1: 0.1 KiB\n"
        "#2: b.py:4: 0.0 KiB\n"
        "#3: b.py:4: 0.0 KiB\n"
        "Total allocated size: 0.1 KiB\n");
}

TEST_CASE("display_top prints the stripped source line", "[display_top]") {
  const heapsnap::test::TempDirectory directory;
  const std::string source = (directory / "cache.py").string();
  heapsnap::test::write_text_file(source, "import os\n    cache = [0] * 5000   \n");
  const Snapshot snapshot = SnapshotBuilder().add(0, 5120, stack({frame(source, 2)}), 3).build();
  CHECK(display_top(snapshot, GroupBy::Lineno, 10) ==
        "Top 10 lines\n"
        "#1: " + source + ":2: 5.0 KiB\n"
        "    cache = [0] * 5000\n"
        "Total allocated size: 5.0 KiB\n");
}
