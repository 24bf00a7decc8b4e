// Leaks from exactly two sites, with known sizes, and frees or keeps everything else:
//   3 blocks of 100 bytes from make_buffer() (malloc)       = 300 bytes
//   5 blocks of 48 bytes from make_record() (operator new)  = 240 bytes
// A cache held by a global stays reachable and is not a leak.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "escape.h"

namespace {

struct Record {
  char payload[48];
};

std::vector<std::string>* g_cache = nullptr;  // reachable at exit: not a leak

[[gnu::noinline]] char* make_buffer(int fill) {
  char* buffer = static_cast<char*>(std::malloc(100));  // LEAK SITE 1
  std::memset(buffer, fill, 100);
  return buffer;
}

[[gnu::noinline]] Record* make_record() {
  auto* record = new Record();  // LEAK SITE 2
  escape(record);
  return record;
}

[[gnu::noinline]] void leak_buffers() {
  for (int i = 0; i < 3; ++i) escape(make_buffer(i));  // the pointer is dropped: leaked
}

[[gnu::noinline]] void leak_records() {
  for (int i = 0; i < 5; ++i) escape(make_record());
}

[[gnu::noinline]] void do_proper_work() {
  std::vector<int> numbers(1000, 7);
  char* scratch = make_buffer(1);
  std::free(scratch);
  delete make_record();
  g_cache = new std::vector<std::string>();
  for (int i = 0; i < 10; ++i) g_cache->push_back("cached entry number " + std::to_string(i));
}

}  // namespace

int main() {
  do_proper_work();
  leak_buffers();
  leak_records();
  std::printf("leaky: leaked 3 buffers an