// The allocation calls whose edge cases programs rely on, printed so that a run under heapsnap can be
// compared byte for byte with a run on glibc's malloc: zero sizes, overflowing counts, impossible
// sizes, realloc to 0, alignments up to and beyond a page, and operator new's bad_alloc.

#include <malloc.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>

namespace {

template <typename T>
T* keep(T* p) {
  asm volatile("" : : "g"(p) : "memory");  // the compiler may not fold a call whose result we print
  return p;
}

void report(const char* what, bool ok) { std::printf("%-48s %s\n", what, ok ? "yes" : "NO"); }

bool aligned(const void* p, std::size_t alignment) { return reinterpret_cast<std::uintptr_t>(p) % alignment == 0; }

}  // namespace

int main() {
  void* a = keep(std::malloc(0));
  void* b = keep(std::malloc(0));
  report("malloc(0) gives distinct non-null pointers", a != nullptr && b != nullptr && a != b);
  std::free(a);
  std::free(b);

  errno = 0;
  volatile std::size_t huge_count = SIZE_MAX / 2;
  report("calloc overflow gives null and ENOMEM", keep(std::calloc(huge_count, 3)) == nullptr && errno == ENOMEM);
  errno = 0;
  volatile std::size_t impossible = SIZE_MAX - 4096;
  report("malloc(SIZE_MAX - 4096) gives null and ENOMEM", keep(std::malloc(impossible)) == nullptr && errno == ENOMEM);
  errno = 0;
  report("realloc to an impossible size keeps the block", [&] {
    char* p = keep(static_cast<char*>(std::malloc(16)));
    std::strcpy(p, "kept");
    void* q = keep(std::realloc(p, impossible));
    const bool kept = q == nullptr && errno == ENOMEM && std::strcmp(p, "kept") == 0;
    std::free(p);
    return kept;
  }());

  char* grown = keep(static_cast<char*>(std::calloc(10, 10)));
  bool zeroed = true;
  for (int i = 0; i < 100; ++i) zeroed = zeroed && grown[i] == 0;
  report("calloc zeroes", zeroed);
  std::memset(grown, 'x', 100);
  grown = keep(static_cast<char*>(std::realloc(grown, 100000)));
  bool preserved = true;
  for (int i = 0; i < 100; ++i) preserved = preserved && grown[i] == 'x';
  report("realloc to a huge size keeps the contents", preserved);
  std::free(grown);
  report("realloc(p, 0) frees and gives null (glibc)", keep(std::realloc(keep(std::malloc(32)), 0)) == nullptr);
  report("realloc(nullptr, n) allocates", [] {
    void* p = keep(std::realloc(nullptr, 40));
    std::free(p);
    return p != nullptr;
  }());

  for (std::size_t alignment : {std::size_t{16}, std::size_t{64}, std::size_t{4096}, std::size_t{65536}, std::size_t{1} << 21}) {
    void* p = nullptr;
    char label[64];
    std::snprintf(label, sizeof label, "posix_memalign to %zu", alignment);
    report(label, posix_memalign(&p, alignment, 100) == 0 && aligned(p, alignment));
    std::free(p);
    std::snprintf(label, sizeof label, "aligned_alloc to %zu", alignment);
    p = keep(aligned_alloc(alignment, alignment * 2));
    report(label, p != nullptr && aligned(p, alignment));
    std::free(p);
  }
  void* odd = nullptr;
  report("posix_memalign rejects alignment 24 with EINVAL", posix_memalign(&odd, 24, 8) == EINVAL);
  report("malloc_usable_size covers the request", [] {
    void* p = keep(std::malloc(100));
    const bool covers = malloc_usable_size(p) >= 100;
    std::free(p);
    return covers;
  }());

  bool threw = false;
  try {
    volatile std::size_t too_many = SIZE_MAX / 4;
    keep(new char[too_many]);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  report("new of an impossible size throws bad_alloc", threw);
  report("new (nothrow) of an impossible size gives null", keep(new (std::nothrow) char[impossible]) == nullptr);
  std::free(nullptr);
  report("free(nullptr) is a no-op", true);
  return 0;
}
