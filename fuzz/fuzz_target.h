#pragma once
// One fuzz target per reader (fuzz/README in docs/fuzzing.md). Each *_fuzzer.cpp defines fuzz_one();
// two mains drive it: libfuzzer_main.cpp (clang, libFuzzer, the `scripts/fuzz` build) and
// corpus_main.cpp (any compiler, the regression test that replays fuzz/corpus/<fuzzer>/).
//
// fuzz_one() returns whether the reader accepted the input or rejected it with its documented error
// type; anything else (another exception, a crash, a failed check) escapes and is a finding.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace heapsnap::fuzz {

enum class Outcome { Accepted, Rejected };

Outcome fuzz_one(std::string_view input);

// A property that must hold for every input: abort (a finding) with a message when it does not.
inline void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

}  // namespace heapsnap::fuzz
