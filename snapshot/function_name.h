#pragma once
// A frame's function name as suppression rules match it. The same function reads differently from
// different compilers' debug information: GCC names a function of internal linkage by its bare name
// (`make_buffer`), clang by its demangled linkage name (`(anonymous namespace)::make_buffer(int)`), and
// both give the parameter list of a function with external linkage (`ns::parse(char const*)`). A
// pattern written for one build must hold for the other, so patterns also match the short form.

#include <string>
#include <string_view>

namespace heapsnap {

// An Itanium-mangled name ("_Z...") demangled; any other name as it is: __cxa_demangle also reads a
// bare name as a type, so a C function named `f`, `i` or `d` would otherwise show as `float`, `int`
// or `double`. A name that does not demangle is returned as it is.
std::string demangled_function_name(const char* name);

// "ns::f(int) const" -> "ns::f": the name up to its parameter list (the last top-level one that
// closes at the end, so "operator()(int)" keeps its "operator()"). A name without one is returned whole.
std::string_view without_parameters(std::string_view name);

// The name without its parameter list and without `(anonymous namespace)::` qualifiers:
// "(anonymous namespace)::Pool::grow(unsigned long)" -> "Pool::grow".
std::string short_function_name(std::string_view name);

}  // namespace heapsnap
