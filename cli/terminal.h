#pragma once
// What heapsnap shows only to a person at a terminal, never to a file, a pipe or a JSON consumer:
// colour (unless NO_COLOR is set or TERM is "dumb") and progress while it reads snapshots.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace heapsnap::cli {

// Whether text written to `fd` may carry ANSI colour.
bool colour_on(int fd);

// One line on stderr, rewritten in place: "heapsnap: reading snapshot 3 of 40: NAME". Shown only when
// stderr is a terminal and the work takes long enough to notice (half a second); erased when done.
class Progress {
 public:
  Progress(std::string what, std::size_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void step(const std::string& item);

 private:
  std::string what_;
  std::size_t total_;
  std::size_t done_ = 0;
  bool terminal_;
  bool shown_ = false;
  std::chrono::milliseconds show_after_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
};

}  // namespace heapsnap::cli
