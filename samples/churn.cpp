// Steady allocation churn of mixed sizes through malloc, new and the standard containers, with every
// block freed again: the exit snapshot has no leak.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "escape.h"

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  unsigned long checksum = 0;
  for (int round = 0; round < rounds; ++round) {
    std::map<int, std::string> table;
    for (int i = 0; i < 200; ++i) table.emplace(i, std::string(static_cast<std::size_t>(i % 97 + 20), 'x'));
    std::vector<std::unique_ptr<double[]>> arrays;
    for (int i = 0; i < 20; ++i) arrays.emplace_back(new double[static_cast<std::size_t>(i * 37 + 1)]);
    void* big = std::malloc(static_cast<std::size_t>(200000 + round));
    escape(big);
    std::free(big);
    checksum += table.size() + arrays.size();
  }
  std::printf("churn: %d rounds, checksum %lu\n", rounds, checksum);
  return 0;
}
