/* A test that passes and frees what it allocates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char* words[10];
  for (int i = 0; i < 10; ++i) words[i] = strdup("word");
  for (int i = 0; i < 10; ++i) free(words[i]);
  puts("frees_everything: ok");
  return 0;
}
