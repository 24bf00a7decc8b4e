// Frees memory that is not allocated, as buggy programs do: a block freed twice and a pointer into
// the middle of a block. With glibc this aborts; under heapsnap the frees are refused, the program
// goes on, and the snapshot reports both with their stacks. The marked lines are found by the test.

#include <cstdio>
#include <cstdlib>

namespace {

[[gnu::noinline]] char* make_block() {
  char* block = static_cast<char*>(std::malloc(40));  // BAD FREE ALLOCATION
  asm volatile("" : : "g"(block) : "memory");
  return block;
}

[[gnu::noinline]] void free_block(char* block) {
  std::free(block);  // BAD FREE HERE
  asm volatile("" ::: "memory");  // not a tail call: this frame stays on the stack
}

}  // namespace

int main() {
  char* block = make_block();
  block[0] = 'x';
  std::free(block);
  free_block(block);  // the second free of the same block
  char* other = static_cast<char*>(std::malloc(64));
  free_block(other + 16);  // not the start of a block
  std::free(other);
  std::puts("still running");
  return 0;
}
