#pragma once
// What every gc test starts from: a collector of its own with automatic collection off (as
// test_gc.py's test_main() disables it), and the number of model objects alive at the start.

#include <catch2/catch.hpp>

#include "py_model.h"

namespace pymodel {

struct GcTest {
  GcTest() { gc.disable(); }
  ~GcTest() { gc.validate(); }
  int freed_since_start() const { return baseline - live_objects; }
  int alive_since_start() const { return live_objects - baseline; }

  Collector gc;
  const int baseline = live_objects;
};

template <class T>
bool contains(const std::vector<Ref<Object>>& objects, const Ref<T>& wanted) {
  for (const Ref<Object>& object : objects)
    if (object == wanted) return true;
  return false;
}

}  // namespace pymodel
