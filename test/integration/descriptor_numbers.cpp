// Prints the descriptors the program finds open at start and the numbers of those it opens (at start,
// from threads, at the end): under heapsnap they must be exactly what they are without it.

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<int> open_descriptors() {
  std::vector<int> numbers;
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) std::exit(3);
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] == '.') continue;
    const int number = std::atoi(entry->d_name);
    if (number != dirfd(directory)) numbers.push_back(number);
  }
  closedir(directory);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

int open_null() { return open("/dev/null", O_RDONLY); }

}  // namespace

int main() {
  std::printf("open at start:");
  for (int number : open_descriptors()) std::printf(" %d", number);
  std::printf("\nopened at start: %d\n", open_null());
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) return 4;
  std::printf("pipe: %d %d\n", pipe_ends[0], pipe_ends[1]);

  std::vector<std::thread> threads;
  std::vector<std::string> allocated(4);  // some heap, so that heapsnap has something to trace
  for (int i = 0; i < 4; ++i) threads.emplace_back([&allocated, i] { allocated[i] = std::string(100 + i, 'x'); });
  for (std::thread& thread : threads) thread.join();
  std::printf("opened after starting threads: %d\n", open_null());
  int from_thread = -1;
  std::thread([&from_thread] { from_thread = open_null(); }).join();
  std::printf("opened by a thread: %d\n", from_thread);
  std::printf("opened at the end: %d\n", open_null());
  return 0;
}
