/* A test that passes and leaks 3 blocks of 100 bytes at one line. */
#include <stdio.h>
#include <stdlib.h>

static void* volatile sink;

int main(void) {
  for (int i = 0; i < 3; ++i) {
    sink = malloc(100); /* LEAK SITE */
    sink = NULL;
  }
  puts("leaks_three_blocks: ok");
  return 0;
}
