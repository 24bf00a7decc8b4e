// The short form of a function's name that suppression patterns also match (snapshot/function_name.h).

#include <catch2/catch.hpp>

#include "snapshot/function_name.h"

using heapsnap::short_function_name;
using heapsnap::without_parameters;

TEST_CASE("a function name without its parameter list", "[suppressions]") {
  CHECK(without_parameters("make_buffer") == "make_buffer");
  CHECK(without_parameters("make_buffer(int)") == "make_buffer");
  CHECK(without_parameters("ns::Pool::grow(unsigned long) const") == "ns::Pool::grow");
  CHECK(without_parameters("Tree::visit(std::function<void (Node*)>) &&") == "Tree::visit");
  CHECK(without_parameters("operator()(int)") == "operator()");
  CHECK(without_parameters("main::{lambda()#1}::operator()() const") == "main::{lambda()#1}::operator()");
  CHECK(without_parameters("(anonymous namespace)::f") == "(anonymous namespace)::f");
  CHECK(without_parameters("f(g(int))") == "f");
  CHECK(without_parameters("") == "");
  CHECK(without_parameters("0x7f00deadbeef") == "0x7f00deadbeef");
}

TEST_CASE("the short form drops the parameters and anonymous namespaces, as GCC's names have them", "[suppressions]") {
  CHECK(short_function_name("(anonymous namespace)::make_buffer(int)") == "make_buffer");
  CHECK(short_function_name("app::(anonymous namespace)::Pool::grow(unsigned long)") == "app::Pool::grow");
  CHECK(short_function_name("make_buffer") == "make_buffer");
  CHECK(short_function_name("std::vector<int, std::allocator<int> >::push_back(int const&)") ==
        "std::vector<int, std::allocator<int> >::push_back");
}
