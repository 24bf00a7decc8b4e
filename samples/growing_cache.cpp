// A service-like loop whose cache grows with every phase while everything else churns. Run it with 1
// and with 3 phases and diff the two snapshots: the cache's insertion site is what grew.
//   heapsnap run -o one.json -- growing_cache 1
//   heapsnap run -o three.json -- growing_cache 3
//   heapsnap diff one.json three.json
// With a second argument it runs like a service watched over time: PAUSE_MS between phases, and at
// the end a clean shutdown that empties the cache, so memory rises, peaks and falls:
//   heapsnap run --interval 20 -o watch.json -- growing_cache 10 15

#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

std::unordered_map<int, std::string>* g_cache = new std::unordered_map<int, std::string>();  // never freed on purpose

[[gnu::noinline]] void remember(int key) {
  (*g_cache)[key] = std::string(256, static_cast<char>('a' + key % 26));  // GROWTH SITE
}

[[gnu::noinline]] void handle_requests(int phase) {
  for (int request = 0; request < 1000; ++request) {
    std::vector<char> scratch(static_cast<std::size_t>(request % 500 + 1));  // churn, freed each time
    remember(phase * 1000 + request);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int phases = argc > 1 ? std::atoi(argv[1]) : 2;
  const int pause_ms = argc > 2 ? std::atoi(argv[2]) : -1;
  for (int phase = 0; phase < phases; ++phase) {
    handle_requests(phase);
    if (pause_ms >= 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  std::printf("growing_cache: %d phases, %zu cached entries\n", phases, g_cache->size());
  if (pause_ms >= 0) {  // shutting down: the cache is emptied, and the program lingers a moment
    g_cache->clear();
    g_cache->rehash(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  return 0;
}
