// A long-running service, in phases, for `heapsnap trend`. Each phase handles a batch of requests:
//   - a response cache that nobody evicts grows by 20 entries (5 KiB) a phase: the leak (GROWING SITE);
//   - a connection pool fills up over the first 6 phases, then stays full (PLATEAU SITE);
//   - the open sessions are replaced by a different number of them each phase (CHURN SITE);
//   - each request's scratch buffer is freed before the next (never live between phases).
// Everything stays reachable from globals: nothing here is a leak at exit, only growth.
//
//   service [PHASES [PAUSE_MS]]   PHASES phases (default 20), pausing PAUSE_MS ms after each (default 100)
//   service -                     one phase per line of standard input, until its end
//
//   heapsnap run --interval 250 -o svc.json -- service 20 100
//   heapsnap trend svc.snap-*.json

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>

#include "escape.h"

namespace {

struct CacheEntry {
  CacheEntry* next;
  int key;
  char response[244];
};
static_assert(sizeof(CacheEntry) == 256);

constexpr int kEntriesPerPhase = 20;
constexpr int kConnectionsPerPhase = 8;
constexpr int kPoolPhases = 6;
constexpr std::size_t kConnectionSize = 1024;
constexpr std::size_t kSessionSize = 512;
constexpr int kSessionPattern[] = {6, 2, 9, 3, 7, 1};  // sessions open after each phase, in turn
constexpr int kMaxSessions = 9;

CacheEntry* g_cache = nullptr;  // grows forever
int g_cached = 0;
char* g_pool[kConnectionsPerPhase * kPoolPhases] = {};  // fills up, then stays full
int g_pooled = 0;
char* g_sessions[kMaxSessions] = {};  // replaced every phase
int g_open_sessions = 0;

[[gnu::noinline]] void remember(int key) {
  auto* entry = new CacheEntry{g_cache, key, {}};  // GROWING SITE
  std::snprintf(entry->response, sizeof entry->response, "response %d", key);
  g_cache = entry;
  ++g_cached;
}

[[gnu::noinline]] void connect_more() {
  for (int i = 0; i < kConnectionsPerPhase && g_pooled < static_cast<int>(std::size(g_pool)); ++i) {
    g_pool[g_pooled] = static_cast<char*>(std::calloc(1, kConnectionSize));  // PLATEAU SITE
    ++g_pooled;
  }
  escape(g_pool);  // nothing reads the pool: without this, the compiler drops the stores and the callocs
}

[[gnu::noinline]] void replace_sessions(int count) {
  for (int i = 0; i < g_open_sessions; ++i) std::free(g_sessions[i]);
  for (int i = 0; i < count; ++i) {
    g_sessions[i] = static_cast<char*>(std::malloc(kSessionSize));  // CHURN SITE
    std::memset(g_sessions[i], i, kSessionSize);
  }
  g_open_sessions = count;
}

[[gnu::noinline]] void handle_request(int request) {
  char* scratch = static_cast<char*>(std::malloc(static_cast<std::size_t>(request % 500 + 1)));
  escape(scratch);
  std::free(scratch);
}

void run_phase(int phase) {
  for (int request = 0; request < 100; ++request) handle_request(request);
  for (int i = 0; i < kEntriesPerPhase; ++i) remember(phase * kEntriesPerPhase + i);
  if (phase < kPoolPhases) connect_more();
  replace_sessions(kSessionPattern[phase % std::size(kSessionPattern)]);
  std::printf("phase %d: %d cached, %d pooled, %d sessions\n", phase + 1, g_cached, g_pooled, g_open_sessions);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("service: pid %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  if (argc > 1 && std::strcmp(argv[1], "-") == 0) {
    char line[256];
    for (int phase = 0; std::fgets(line, sizeof line, stdin) != nullptr; ++phase) run_phase(phase);
    return 0;
  }
  const int phases = argc > 1 ? std::atoi(argv[1]) : 20;
  const int pause_ms = argc > 2 ? std::atoi(argv[2]) : 100;
  for (int phase = 0; phase < phases; ++phase) {
    run_phase(phase);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  return 0;
}
