// A service-like loop whose cache grows with every phase while everything else churns. Run it with 1
// and with 3 phases and diff the two snapshots: the cache's insertion site is what grew.
//   heapsnap run -o one.json -- growing_cache 1
//   heapsnap run -o three.json -- growing_cache 3
//   heapsnap diff one.json three.json

#include <cstdio>
#include <cstdlib>
#include <string>
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
  for (int phase = 0; phase < phases; ++phase) handle_requests(phase);
  std::printf("growing_cache: %d phases, %zu cached entries\n", phases, g_cache->size());
  return 0;
}
