#include "cli/terminal.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "snapshot/snapshot_json.h"

namespace heapsnap::cli {
namespace {

// Progress appears once work has taken this long; HEAPSNAP_PROGRESS_DELAY_MS overrides it (tests).
std::chrono::milliseconds show_after() {
  const char* text = std::getenv("HEAPSNAP_PROGRESS_DELAY_MS");
  if (text == nullptr || *text == '\0') return std::chrono::milliseconds(500);
  return std::chrono::milliseconds(std::strtoul(text, nullptr, 10));
}
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr std::size_t kMaxShownName = 50;

}  // namespace

bool colour_on(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");  // https://no-color.org
  if (no_colour != nullptr && *no_colour != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fd) != 0;
}

Progress::Progress(std::string what, std::size_t total)
    : what_(std::move(what)), total_(total), terminal_(isatty(STDERR_FILENO) != 0), show_after_(show_after()) {}

Progress::~Progress() {
  if (shown_) std::cerr << "\r\033[K" << std::flush;  // leave the terminal as it was
}

void Progress::step(const std::string& item) {
  ++done_;
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < show_after_ || (shown_ && now - last_ < kRedrawEvery)) return;
  last_ = now;
  shown_ = true;
  const std::string name = item.size() > kMaxShownName ? "..." + item.substr(item.size() - kMaxShownName) : item;
  std::cerr << "\r\033[Kheapsnap: " << what_ << " " << done_ << " of " << total_ << ": " << name << std::flush;
}

}  // namespace heapsnap::cli
