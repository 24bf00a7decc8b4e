// Frees memory that is not allocated, as buggy programs do: a block freed twice, a pointer into the
// middle of a block, a global and an array on the stack, and a global passed to realloc. With glibc this aborts; under heapsnap the
// frees are refused, the program goes on, and the snapshot reports each with its stack. The marked
// lines are found by the test.

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

char g_global_buffer[32];

[[gnu::noinline]] void free_global() {
  std::free(g_global_buffer);  // FREE OF A GLOBAL
  asm volatile("" ::: "memory");
}

[[gnu::noinline]] void free_stack_array() {
  char on_stack[32];
  asm volatile("" : : "g"(on_stack) : "memory");
  std::free(on_stack);  // FREE OF A STACK ARRAY
  asm volatile("" ::: "memory");
}

char g_realloced_buffer[32];

[[gnu::noinline]] void realloc_global() {
  void* result = std::realloc(g_realloced_buffer, 64);  // REALLOC OF A GLOBAL
  asm volatile("" : : "g"(result) : "memory");
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
  free_global();
  free_stack_array();
  realloc_global();
  std::puts("still running");
  return 0;
}
