#include "snapshot/function_name.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace heapsnap {

std::string demangled_function_name(const char* name) {
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> text(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && text ? std::string(text.get()) : std::string(name);
}

std::string_view without_parameters(std::string_view name) {
  if (name.empty() || name.back() != ')') {
    // A trailing qualifier after the list: "f(int) const", "f() &&".
    const std::size_t close = name.rfind(')');
    if (close == std::string_view::npos) return name;
    const std::string_view rest = name.substr(close + 1);
    if (rest.find_first_of("(<>:") != std::string_view::npos) return name;
    name = name.substr(0, close + 1);
  }
  int depth = 0;
  for (std::size_t i = name.size(); i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) return i == 0 ? name : name.substr(0, i);
  }
  return name;
}

std::string short_function_name(std::string_view name) {
  constexpr std::string_view kAnonymous = "(anonymous namespace)::";
  const std::string_view bare = without_parameters(name);
  std::string result;
  result.reserve(bare.size());
  for (std::size_t i = 0; i < bare.size();) {
    if (bare.substr(i).starts_with(kAnonymous)) {
      i += kAnonymous.size();
      continue;
    }
    result += bare[i++];
  }
  return result;
}

}  // namespace heapsnap
