#include "cli/full_screen.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <string_view>

namespace heapsnap::cli {
namespace {

std::atomic<int> g_pending_signal{0};  // the last signal caught, 0 when none

void remember_signal(int signal) { g_pending_signal.store(signal); }

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t wrote = write(fd, text.data(), text.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(wrote));
  }
}

constexpr int kCaught[] = {SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGWINCH};

}  // namespace

FullScreen::FullScreen(int in, int out) : in_(in), out_(out) {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  for (int signal : kCaught) sigaction(signal, &action, nullptr);  // no SA_RESTART: poll() returns
  tcgetattr(in_, &saved_);
  enter();
}

FullScreen::~FullScreen() {
  leave();
  for (int signal : kCaught) std::signal(signal, SIG_DFL);
}

void FullScreen::enter() {
  termios raw = saved_;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C and Ctrl-Z are signals
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(in_, TCSAFLUSH, &raw);
  write_all(out_, "\x1b[?1049h\x1b[?25l");  // alternate screen, cursor hidden
  active_ = true;
}

void FullScreen::leave() {
  if (!active_) return;
  write_all(out_, "\x1b[?25h\x1b[?1049l");  // cursor shown, the screen as it was
  tcsetattr(in_, TCSAFLUSH, &saved_);
  active_ = false;
}

FullScreen::Event FullScreen::wait(int timeout_ms, char& key) {
  pollfd ready{in_, POLLIN, 0};
  const int polled = poll(&ready, 1, timeout_ms);
  if (const int signal = g_pending_signal.exchange(0); signal != 0) {
    if (signal == SIGWINCH) return Event::Resize;
    if (signal != SIGTSTP) return Event::Quit;
    leave();  // suspended with the terminal as the shell expects it
    std::signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);
    struct sigaction action {};
    action.sa_handler = remember_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTSTP, &action, nullptr);
    tcgetattr(in_, &saved_);  // the shell may have changed it meanwhile
    enter();
    return Event::Resize;
  }
  if (polled <= 0) return Event::Timeout;
  if ((ready.revents & (POLLHUP | POLLERR)) != 0) return Event::Quit;
  const ssize_t got = read(in_, &key, 1);
  if (got == 0) return Event::Quit;  // the terminal is gone
  return got == 1 ? Event::Key : Event::Timeout;
}

void FullScreen::draw(const std::vector<std::string>& lines, std::size_t highlighted) {
  const auto width = static_cast<std::size_t>(columns());
  const auto height = static_cast<std::size_t>(rows());
  std::string screen = "\x1b[H";  // home; each line clears what is left of it
  for (std::size_t i = 0; i < lines.size() && i < height; ++i) {
    std::string line = lines[i].substr(0, width);
    if (i == highlighted) line = "\x1b[7m" + line + std::string(width - line.size(), ' ') + "\x1b[0m";
    screen += line + "\x1b[K" + (i + 1 < height ? "\r\n" : "");
  }
  screen += "\x1b[J";  // and the lines below
  write_all(out_, screen);
}

int FullScreen::rows() const {
  winsize size{};
  return ioctl(out_, TIOCGWINSZ, &size) == 0 && size.ws_row > 0 ? size.ws_row : 24;
}

int FullScreen::columns() const {
  winsize size{};
  return ioctl(out_, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
}

}  // namespace heapsnap::cli
