// libFuzzer's entry point for a fuzz target; built only with -DHEAPSNAP_FUZZ=ON (clang).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  heapsnap::fuzz::fuzz_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
