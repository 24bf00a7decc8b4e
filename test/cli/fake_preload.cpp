// A stand-in for libheapsnap_preload.so in the `heapsnap run` tests. In the process heapsnap started
// (HEAPSNAP_ROOT_PID), at exit, it saves a snapshot to HEAPSNAP_OUTPUT whose process.argv records the
// environment contract as it saw it ("NAME=value" or "NAME unset"), so that the tests check `run`
// end to end, and save_snapshot inside a preloaded process, without the real runtime.

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "snapshot/snapshot_json.h"

namespace {

std::string observed(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string(name) + " unset" : std::string(name) + "=" + value;
}

__attribute__((destructor)) void save_snapshot_at_exit() {
  const char* output = std::getenv("HEAPSNAP_OUTPUT");
  const char* root = std::getenv("HEAPSNAP_ROOT_PID");
  if (output == nullptr || root == nullptr || std::to_string(::getpid()) != root) return;

  heapsnap::Snapshot snapshot;
  snapshot.traceback_limit = 16;
  snapshot.process.pid = ::getpid();
  snapshot.process.reason = "exit";
  for (const char* name : {"LD_PRELOAD", "HEAPSNAP_OUTPUT", "HEAPSNAP_ROOT_PID", "HEAPSNAP_DEPTH", "HEAPSNAP_START",
                           "HEAPSNAP_LEAKS", "HEAPSNAP_FOLLOW_CHILDREN"}) {
    snapshot.process.argv.push_back(observed(name));
  }
  heapsnap::Frame frame;
  frame.filename = "fake_preload.cpp";
  frame.lineno = 7;
  frame.function = "leaky";
  snapshot.tracebacks.push_back(heapsnap::Traceback{{frame}, 1});
  heapsnap::Trace trace;
  trace.size = 1024;
  trace.count = 2;
  snapshot.traces.push_back(trace);
  try {
    heapsnap::save_snapshot(snapshot, output);
  } catch (...) {
    // A test sees the missing file.
  }
}

}  // namespace
