// A program that uses the installed heapsnap API: traces its own allocations and checks them.
#include <heapsnap/profiler/api.h>

#include <cstdio>
#include <cstdlib>

int main() {
  heapsnap::start(4);
  void* block = std::malloc(4321);
  const auto traced = heapsnap::get_traced_memory();
  const auto snapshot = heapsnap::take_snapshot();
  const bool found = heapsnap::get_object_traceback(block).has_value();
  std::free(block);
  std::printf("traced=%zu traces=%zu found=%d\n", traced.current, snapshot.traces.size(), found ? 1 : 0);
  return traced.current >= 4321 && !snapshot.traces.empty() && found ? 0 : 1;
}
