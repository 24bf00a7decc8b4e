/* Many short-lived processes, as a unit-test suite runs them: `bench_short_lived N [PREFIX...]`
   starts itself N times in turn (posix_spawn, then wait), as `PREFIX... bench_short_lived child`
   when a prefix is given (a profiler that does not follow child processes, run once per child), and
   each child, a tiny C program, allocates a little and exits. Under `heapsnap run` every child is
   profiled and writes its own snapshot, so this measures what heapsnap costs per process: loading,
   starting its service thread, the exit snapshot. */

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int child(void) {
  enum { kWords = 100 };
  char* words[kWords];
  for (int i = 0; i < kWords; ++i) {
    words[i] = malloc(32);
    snprintf(words[i], 32, "word %d of a tiny test", i);
  }
  size_t total = 0;
  for (int i = 0; i < kWords; ++i) {
    total += strlen(words[i]);
    free(words[i]);
  }
  void* leaked = malloc(64); /* one leak, as tests often have */
  printf("%zu bytes of words, %p\n", total, leaked);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "child") == 0) return child();
  const int runs = argc > 1 ? atoi(argv[1]) : 200;
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (length <= 0) return 2;
  self[length] = '\0';
  char child_argument[] = "child";
  char* child_argv[64];
  int n = 0;
  for (int i = 2; i < argc && n < 61; ++i) child_argv[n++] = argv[i];
  child_argv[n++] = self;
  child_argv[n++] = child_argument;
  child_argv[n] = NULL;
  for (int i = 0; i < runs; ++i) {
    pid_t pid = 0;
    if (posix_spawnp(&pid, child_argv[0], NULL, NULL, child_argv, environ) != 0) return 2;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 3;
  }
  return 0;
}
