// A program that closes every descriptor but stdin, stdout and stderr at start, as daemons and
// programs about to exec do, then opens files of its own (taking numbers 3 to 6) and asks for a
// snapshot: heapsnap must keep working and must never write into the program's files.
//
//   closes_every_descriptor SNAPSHOT_FILE SIGNAL
// prints the numbers its files got, raises SIGNAL (a number; 0 for none), waits until SNAPSHOT_FILE
// exists (written whole, by rename), then writes to its files again and ends by raising SIGTERM.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr int kOwnFiles = 4;

void write_all(int fd, const std::string& text) {
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::exit(5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  for (int fd = 3; fd < static_cast<int>(limit.rlim_cur); ++fd) close(fd);  // no close_range: the loop every libc has

  int own[kOwnFiles];
  std::printf("own files:");
  for (int i = 0; i < kOwnFiles; ++i) {
    const std::string name = "own-" + std::to_string(i) + ".txt";
    own[i] = open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (own[i] < 0) return 3;
    write_all(own[i], "written by the program\n");
    std::printf(" %d", own[i]);
  }
  std::printf("\n");

  if (const int signal_number = std::atoi(argv[2]); signal_number != 0) raise(signal_number);
  struct stat ignored {};
  for (int waited_ms = 0; stat(argv[1], &ignored) != 0; waited_ms += 10) {
    if (waited_ms > 60'000) return 4;  // the snapshot never came
    usleep(10'000);
  }

  for (int fd : own) write_all(fd, "and again after the snapshot\n");
  std::puts("ending by SIGTERM");
  std::fflush(stdout);
  raise(SIGTERM);
  return 6;  // not reached: SIGTERM's default action ends the program
}
