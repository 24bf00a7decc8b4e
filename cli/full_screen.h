#pragma once
// A terminal taken over for a live view (heapsnap top), as top(1) does: keys read one at a time without
// echo, the alternate screen, no cursor. Everything is put back when the object goes, and also when
// the user presses Ctrl-C, ends the terminal or suspends the view (Ctrl-Z): the signals are caught and
// turned into events of the view's loop, which then returns normally.

#include <termios.h>

#include <cstddef>
#include <string>
#include <vector>

namespace heapsnap::cli {

class FullScreen {
 public:
  enum class Event { Timeout, Key, Quit, Resize };

  // `in` and `out` must be terminals.
  FullScreen(int in, int out);
  ~FullScreen();
  FullScreen(const FullScreen&) = delete;
  FullScreen& operator=(const FullScreen&) = delete;

  // Waits up to `timeout_ms` for a key or a signal. Ctrl-C, SIGTERM and SIGHUP give Quit; a key sets
  // `key`. A Ctrl-Z suspends the process with the terminal restored, and gives Resize once resumed.
  Event wait(int timeout_ms, char& key);

  // Replaces the screen with `lines`, each cut to the width, line `highlighted` in reverse video.
  void draw(const std::vector<std::string>& lines, std::size_t highlighted);

  int rows() const;
  int columns() const;

 private:
  void enter();
  void leave();

  int in_;
  int out_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace heapsnap::cli
