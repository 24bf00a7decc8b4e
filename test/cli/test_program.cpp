// A program for the `heapsnap run` tests, because `sh -c 'exit N'` ends with _exit() and so skips the
// preload library's exit handler: `heapsnap_test_program STATUS [FILE...]` creates each FILE, then
// returns STATUS from main.

#include <cstdlib>
#include <fstream>

int main(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) std::ofstream{argv[i]};
  return argc > 1 ? std::atoi(argv[1]) : 0;
}
