// A library loaded with dlopen whose thread-local variables hold heap memory: its TLS block is
// dynamic (allocated by the loader on a thread's first use), so the only path to these blocks runs
// through a thread's DTV. Used by verdict_programs.cpp (scenario dlopen_tls).

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {
__thread char* tls_buffer;                    // trivially destructible: kept until the thread ends
thread_local std::vector<std::string> tls_names;  // destroyed at thread exit
}  // namespace

extern "C" void tls_fill(std::size_t bytes) {
  tls_buffer = static_cast<char*>(std::malloc(bytes));
  std::memset(tls_buffer, 'x', bytes);
  for (int i = 0; i < 4; ++i) tls_names.push_back(std::string(40, static_cast<char>('a' + i)));
}

extern "C" std::size_t tls_check() { return tls_buffer != nullptr ? tls_names.size() : 0; }

// For threads that end before exit: the __thread buffer has no destructor, the vector does.
extern "C" void tls_release() {
  std::free(tls_buffer);
  tls_buffer = nullptr;
}
