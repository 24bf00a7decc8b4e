// gc.callbacks: a port of CPython's GCCallbackTests, with CPython 3.11's counts.

#include <sstream>
#include <stdexcept>

#include "gc_test_support.h"

namespace pymodel {
namespace {

using heapsnap::gc::CallbackInfo;
using heapsnap::gc::Phase;

// Uncollectable (test_gc.py): two objects with a legacy finalizer that refer to each other.
Ref<LegacyInstance> make_uncollectable(Collector& gc, const Ref<Type>& type) {
  Ref<LegacyInstance> a = gc.make<LegacyInstance>(type);
  Ref<LegacyInstance> b = gc.make<LegacyInstance>(type);
  a->set("partner", b);
  b->set("partner", a);
  return a;
}

struct Visit {
  int callback;
  Phase phase;
  CallbackInfo info;
};

struct GcCallbackTest : GcTest {
  GcCallbackTest() {
    cb1 = gc.add_callback([this](Phase phase, const CallbackInfo& info) { visits.push_back({1, phase, info}); });
    cb2 = gc.add_callback([this](Phase phase, const CallbackInfo& info) {
      visits.push_back({2, phase, info});
      if (phase == Phase::Stop && cleanup) {  // clean Uncollectable from garbage
        std::vector<Ref<Object>> uncollectable;
        uncollectable.swap(gc.garbage());
        for (const Ref<Object>& e : uncollectable) dynamic_cast<Instance&>(*e).del("partner");
      }
    });
  }
  ~GcCallbackTest() {
    CHECK(gc.remove_callback(cb1));
    CHECK(gc.remove_callback(cb2));
    CHECK_FALSE(gc.remove_callback(cb1));
    LegacyInstance::tp_del_calls = 0;
  }
  void preclean() {
    gc.collect();
    visits.clear();
  }

  heapsnap::gc::CallbackId cb1{}, cb2{};
  std::vector<Visit> visits;
  bool cleanup = false;
};

TEST_CASE_METHOD(GcCallbackTest, "test_collect: each callback sees start and stop", "[gc][port]") {
  preclean();
  gc.collect();
  REQUIRE(visits.size() == 4);
  int n1 = 0, n2 = 0, starts = 0, stops = 0;
  for (const Visit& v : visits) {
    (v.callback == 1 ? n1 : n2) += 1;
    (v.phase == Phase::Start ? starts : stops) += 1;
    CHECK(v.info.generation == 2);
  }
  CHECK(n1 == 2);
  CHECK(n2 == 2);
  CHECK(starts == 2);
  CHECK(stops == 2);
  CHECK(visits[0].phase == Phase::Start);  // both starts before both stops
  CHECK(visits[1].phase == Phase::Start);
  CHECK(to_string(Phase::Start) == "start");
  CHECK(to_string(Phase::Stop) == "stop");
}

TEST_CASE_METHOD(GcCallbackTest, "test_collect_generation", "[gc][port]") {
  preclean();
  gc.collect(1);
  REQUIRE(visits.size() == 4);
  for (const Visit& v : visits) CHECK(v.info.generation == 1);
}

TEST_CASE_METHOD(GcCallbackTest, "test_collect_garbage: collected and uncollectable in the stop info",
                 "[gc][port]") {
  preclean();
  Ref<Type> uncollectable_class = make_class(gc, "Uncollectable");
  Ref<Type> c_class = make_class(gc, "C1055820");
  make_uncollectable(gc, uncollectable_class);
  make_uncollectable(gc, uncollectable_class);
  {  // C1055820(666): a self-loop
    Ref<Instance> c = gc.make<Instance>(c_class);
    c->set("loop", c);
  }
  gc.collect();
  int stops = 0;
  for (const Visit& v : visits) {
    if (v.phase != Phase::Stop) continue;
    ++stops;
    CHECK(v.info.collected == 1);      // CPython 3.11: 1
    CHECK(v.info.uncollectable == 4);  // CPython 3.11: 4
  }
  CHECK(stops == 2);
  REQUIRE(gc.garbage().size() == 4);
  for (const Ref<Object>& e : gc.garbage()) CHECK(dynamic_cast<LegacyInstance*>(e.get()) != nullptr);

  // Now let the callback handle the Uncollectable instances.
  cleanup = true;
  visits.clear();
  gc.garbage().clear();
  gc.collect();
  for (const Visit& v : visits) {
    if (v.phase != Phase::Stop) continue;
    CHECK(v.info.collected == 0);
    CHECK(v.info.uncollectable == 4);
  }
  CHECK(gc.garbage().empty());
  CHECK(alive_since_start() == 10);  // the two classes: the Uncollectables are gone
  CHECK(LegacyInstance::tp_del_calls == 4);
}

TEST_CASE_METHOD(GcCallbackTest, "a callback that collects gets 0; one that throws is reported", "[gc]") {
  std::ostringstream out;
  gc.set_debug_output(out);
  std::size_t nested = 99;
  const auto id = gc.add_callback([&](Phase phase, const CallbackInfo&) {
    if (phase == Phase::Start) nested = gc.collect();
    throw std::runtime_error("boom");
  });
  preclean();
  Ref<List> l = gc.make<List>();
  l->append(l);
  l.reset();
  CHECK(gc.collect() == 1);
  CHECK(nested == 0);
  CHECK(visits.size() == 4);  // the other callbacks still ran
  CHECK_THAT(out.str(), Catch::Contains("gc: exception in callback (start): boom"));
  CHECK_THAT(out.str(), Catch::Contains("gc: exception in callback (stop): boom"));
  CHECK(gc.remove_callback(id));
}

TEST_CASE_METHOD(GcCallbackTest, "automatic collections call the callbacks too", "[gc]") {
  preclean();
  gc.set_threshold(2);
  gc.enable();
  std::vector<Ref<List>> keep;
  for (int i = 0; i < 3; ++i) keep.push_back(gc.make<List>());
  gc.disable();
  REQUIRE(visits.size() == 4);
  CHECK(visits[0].info.generation == 0);
}

}  // namespace
}  // namespace pymodel
