// format_size against CPython 3.11's tracemalloc._format_size (expected strings produced by it).

#include <catch2/catch.hpp>

#include <cstdint>

#include "snapshot/format_size.h"

using heapsnap::format_size;

TEST_CASE("format_size matches tracemalloc's _format_size", "[format_size]") {
  struct Case {
    std::int64_t bytes;
    const char* plain;
    const char* with_sign;
  };
  const Case cases[] = {
      {0, "0 B", "+0 B"},
      {1, "1 B", "+1 B"},
      {99, "99 B", "+99 B"},
      {100, "100 B", "+100 B"},
      {1024, "1024 B", "+1024 B"},
      {10239, "10239 B", "+10239 B"},
      {10240, "10.0 KiB", "+10.0 KiB"},
      {10291, "10.0 KiB", "+10.0 KiB"},
      {102347, "99.9 KiB", "+99.9 KiB"},
      {102400, "100 KiB", "+100 KiB"},
      {1048575, "1024 KiB", "+1024 KiB"},
      {10485759, "10240 KiB", "+10240 KiB"},
      {10485760, "10.0 MiB", "+10.0 MiB"},
      {5368709120, "5120 MiB", "+5120 MiB"},
      {3298534883328, "3072 GiB", "+3072 GiB"},
      {21990232555520000, "20000 TiB", "+20000 TiB"},
      {-1, "-1 B", "-1 B"},
      {-5000, "-5000 B", "-5000 B"},
      {-10240, "-10.0 KiB", "-10.0 KiB"},
  };
  for (const Case& c : cases) {
    INFO("bytes = " << c.bytes);
    CHECK(format_size(c.bytes) == c.plain);
    CHECK(format_size(c.bytes, true) == c.with_sign);
  }
}

TEST_CASE("format_size of averages rounds half to even like Python", "[format_size]") {
  CHECK(format_size(2.5) == "2 B");
  CHECK(format_size(3.5) == "4 B");
  CHECK(format_size(2501.0) == "2501 B");
  CHECK(format_size(10188.8) == "10189 B");
  CHECK(format_size(std::uint64_t{10240}) == "10.0 KiB");
}
