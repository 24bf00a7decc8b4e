// The gc module's introspection and configuration: counts, thresholds and generations, get_stats,
// freeze, get_objects, get_referrers/get_referents, is_tracked, debug output. Ports of CPython's
// test_gc.py where one exists.

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "gc_test_support.h"

namespace pymodel {
namespace {

using Counts = std::array<std::int64_t, heapsnap::gc::kGenerations>;

std::vector<long> sorted_values(const std::vector<Ref<Object>>& objects) {
  std::vector<long> values;
  for (const Ref<Object>& object : objects) values.push_back(int_value(*object));
  std::sort(values.begin(), values.end());
  return values;
}

TEST_CASE_METHOD(GcTest, "test_get_count: one allocation counts one in generation 0", "[gc][port]") {
  gc.collect();
  CHECK(gc.get_count() == Counts{0, 0, 0});
  Ref<List> x = gc.make<List>();
  CHECK(gc.get_count() == Counts{1, 0, 0});
  x.reset();  // a deallocation makes up for it
  CHECK(gc.get_count() == Counts{0, 0, 0});
  Ref<Object> atom = make_int(1);  // not a GC object
  CHECK(gc.get_count() == Counts{0, 0, 0});
}

TEST_CASE_METHOD(GcTest, "test_collect_generations: an object trickles to the next generation", "[gc][port]") {
  gc.collect();
  Ref<List> x = gc.make<List>();
  gc.collect(0);
  CHECK(gc.get_count() == Counts{0, 1, 0});
  gc.collect(1);
  CHECK(gc.get_count() == Counts{0, 0, 1});
  gc.collect(2);
  CHECK(gc.get_count() == Counts{0, 0, 0});
}

TEST_CASE_METHOD(GcTest, "test_get_objects: an object is in exactly the generation it reached", "[gc][port]") {
  gc.collect();
  Ref<List> l = gc.make<List>();
  l->append(l);
  auto in = [&](int generation) { return contains(gc.get_objects(generation), l); };
  CHECK((in(0) && !in(1) && !in(2)));
  gc.collect(0);
  CHECK((!in(0) && in(1) && !in(2)));
  gc.collect(1);
  CHECK((!in(0) && !in(1) && in(2)));
  gc.collect(2);
  CHECK((!in(0) && !in(1) && in(2)));
  CHECK(contains(gc.get_objects(), l));
  l.reset();
  CHECK(gc.collect() == 1);
}

TEST_CASE_METHOD(GcTest, "test_get_objects_arguments", "[gc][port]") {
  Ref<List> a = gc.make<List>();
  gc.collect();
  Ref<List> b = gc.make<List>();
  CHECK(gc.get_objects().size() == gc.get_objects(0).size() + gc.get_objects(1).size() + gc.get_objects(2).size());
  CHECK(gc.get_objects().size() == 2);
  CHECK_THROWS_AS(gc.get_objects(1000), std::invalid_argument);
  CHECK_THROWS_AS(gc.get_objects(-1000), std::invalid_argument);
}

TEST_CASE_METHOD(GcTest, "collect() of an invalid generation throws", "[gc]") {
  CHECK_THROWS_AS(gc.collect(3), std::invalid_argument);
  CHECK_THROWS_AS(gc.collect(-1), std::invalid_argument);
  CHECK(gc.get_stats()[0].collections == 0);
}

TEST_CASE_METHOD(GcTest, "collect(0) leaves older garbage alone; older objects are roots for younger ones",
                 "[gc]") {
  Ref<List> old_cycle = gc.make<List>();
  old_cycle->append(old_cycle);
  gc.collect(0);  // to generation 1
  Ref<List> young = gc.make<List>();
  young->append(young);
  old_cycle->append(young);  // an older object refers to a young one
  old_cycle.reset();
  young.reset();
  CHECK(gc.collect(0) == 0);  // the young cycle is held by generation 1
  CHECK(gc.collect(1) == 2);  // both now
  CHECK(alive_since_start() == 0);
}

TEST_CASE_METHOD(GcTest, "test_get_stats: collections counted per generation", "[gc][port]") {
  const auto old = gc.get_stats();
  CHECK(old.size() == 3);
  gc.collect(0);
  auto now = gc.get_stats();
  CHECK(now[0].collections == old[0].collections + 1);
  CHECK(now[1].collections == old[1].collections);
  CHECK(now[2].collections == old[2].collections);
  gc.collect(2);
  now = gc.get_stats();
  CHECK(now[0].collections == old[0].collections + 1);
  CHECK(now[1].collections == old[1].collections);
  CHECK(now[2].collections == old[2].collections + 1);
}

TEST_CASE_METHOD(GcTest, "test_freeze: frozen objects are never collected until unfrozen", "[gc][port]") {
  Ref<List> l = gc.make<List>();
  l->append(l);
  gc.freeze();
  CHECK(gc.get_freeze_count() == 1);
  CHECK(gc.get_count()[0] == 0);
  CHECK(gc.get_objects().empty());
  CHECK(gc.is_tracked(*l));
  l.reset();
  CHECK(gc.collect() == 0);
  CHECK(alive_since_start() == 1);
  gc.unfreeze();
  CHECK(gc.get_freeze_count() == 0);
  CHECK(gc.get_objects(2).size() == 1);  // back into the oldest generation
  CHECK(gc.collect(1) == 0);
  CHECK(gc.collect(2) == 1);
}

TEST_CASE_METHOD(GcTest, "frozen objects are roots: what they hold survives", "[gc]") {
  Ref<List> frozen = gc.make<List>();
  gc.freeze();
  Ref<List> held = gc.make<List>();
  held->append(held);
  frozen->append(held);
  held.reset();
  CHECK(gc.collect() == 0);
  frozen->items.clear();
  CHECK(gc.collect() == 1);
}

TEST_CASE_METHOD(GcTest, "test_get_referents", "[gc][port]") {
  Ref<List> alist = gc.make<List>(std::vector<Ref<Object>>{make_int(1), make_int(3), make_int(5)});
  CHECK(sorted_values(gc.get_referents({alist.get()})) == std::vector<long>{1, 3, 5});

  Ref<Tuple> atuple = gc.make<Tuple>(alist->items);
  CHECK(sorted_values(gc.get_referents({atuple.get()})) == std::vector<long>{1, 3, 5});

  Ref<Dict> adict = gc.make<Dict>();
  adict->set(make_int(1), make_int(3));
  adict->set(make_int(5), make_int(7));
  CHECK(sorted_values(gc.get_referents({adict.get()})) == std::vector<long>{1, 3, 5, 7});

  Ref<List> l2 = gc.make<List>(std::vector<Ref<Object>>{make_int(1), make_int(2)});
  Ref<Dict> d2 = gc.make<Dict>();
  d2->set(make_int(3), make_int(4));
  Ref<Object> zero = make_int(0);
  Ref<Tuple> t3 = gc.make<Tuple>(std::vector<Ref<Object>>{zero, zero, zero});
  CHECK(sorted_values(gc.get_referents({l2.get(), d2.get(), t3.get()})) == std::vector<long>{0, 0, 0, 1, 2, 3, 4});

  Ref<Object> one = make_int(1), a = make_str("a");
  CHECK(gc.get_referents({one.get(), a.get()}).empty());
}

TEST_CASE_METHOD(GcTest, "get_referrers: the tracked objects whose traverse() reports the object", "[gc]") {
  Ref<List> target = gc.make<List>();
  Ref<List> a = gc.make<List>(std::vector<Ref<Object>>{target});
  Ref<Dict> b = gc.make<Dict>();
  b->set(make_str("k"), target);
  Ref<List> unrelated = gc.make<List>();
  Ref<List> untracked = gc.make<List>(std::vector<Ref<Object>>{target});
  gc.untrack(*untracked);

  std::vector<Ref<Object>> referrers = gc.get_referrers({target.get()});
  CHECK(referrers.size() == 2);
  CHECK(contains(referrers, a));
  CHECK(contains(referrers, b));
  CHECK_FALSE(contains(referrers, untracked));

  Ref<List> second = gc.make<List>();
  unrelated->append(second);
  referrers = gc.get_referrers({target.get(), second.get()});
  CHECK(referrers.size() == 3);
  CHECK(contains(referrers, unrelated));

  target->append(target);  // a self-reference makes it its own referrer
  CHECK(contains(gc.get_referrers({target.get()}), target));
}

TEST_CASE_METHOD(GcTest, "test_is_tracked: atoms are not, containers are, untrack/track toggle", "[gc][port]") {
  CHECK_FALSE(gc.is_tracked(*make_int(1)));
  CHECK_FALSE(gc.is_tracked(*make_str("a")));
  Ref<Type> user_class = make_class(gc, "UserClass");
  CHECK(gc.is_tracked(*user_class));
  CHECK(gc.is_tracked(*gc.make<Instance>(user_class)));
  CHECK(gc.is_tracked(*gc.make<List>()));
  CHECK(gc.is_tracked(*gc.make<Dict>()));

  Ref<List> l = gc.make<List>();
  gc.untrack(*l);
  CHECK_FALSE(gc.is_tracked(*l));
  gc.untrack(*l);  // idempotent
  CHECK_FALSE(gc.is_tracked(*l));
  CHECK(gc.get_objects().size() == 5);  // the class's five objects
  gc.track(*l);
  CHECK(gc.is_tracked(*l));
  gc.track(*l);
  CHECK(gc.get_objects().size() == 6);

  Collector other;
  Ref<List> foreign = other.make<List>();
  CHECK_FALSE(gc.is_tracked(*foreign));
  CHECK_THROWS_AS(gc.track(*foreign), std::invalid_argument);
  CHECK_THROWS_AS(gc.untrack(*foreign), std::invalid_argument);
  CHECK_THROWS_AS(gc.track(*make_int(2)), std::invalid_argument);
}

TEST_CASE_METHOD(GcTest, "thresholds: an allocation past generation 0's threshold collects", "[gc]") {
  CHECK(gc.get_threshold() == Counts{700, 10, 10});
  gc.set_threshold(5);
  CHECK(gc.get_threshold() == Counts{5, 10, 10});
  gc.set_threshold(5, 2, 3);
  CHECK(gc.get_threshold() == Counts{5, 2, 3});
  CHECK_FALSE(gc.isenabled());

  std::vector<Ref<List>> keep;
  for (int i = 0; i < 6; ++i) keep.push_back(gc.make<List>());
  CHECK(gc.get_stats()[0].collections == 0);  // disabled
  gc.enable();
  CHECK(gc.isenabled());
  keep.push_back(gc.make<List>());  // count 7 > 5
  CHECK(gc.get_stats()[0].collections == 1);
  CHECK(gc.get_count() == Counts{0, 1, 0});  // the collection reset the count the new object made

  // Generation 1 goes with generation 0 once its count (collections of generation 0) exceeds 2.
  for (int i = 0; i < 20; ++i) keep.push_back(gc.make<List>());
  CHECK(gc.get_stats()[1].collections >= 1);

  gc.set_threshold(0);  // never automatically
  const auto before = gc.get_stats()[0].collections;
  for (int i = 0; i < 20; ++i) keep.push_back(gc.make<List>());
  CHECK(gc.get_stats()[0].collections == before);
}

TEST_CASE_METHOD(GcTest, "the oldest generation is collected automatically only when enough objects reached it",
                 "[gc]") {
  gc.set_threshold(1, 1, 1);
  std::vector<Ref<List>> keep;
  for (int i = 0; i < 400; ++i) keep.push_back(gc.make<List>());
  gc.collect();  // 400 long-lived objects
  const auto full = gc.get_stats()[2].collections;
  gc.enable();
  // Every other allocation now collects a younger generation, and generation 2's count soon exceeds
  // its threshold of 1; but a full collection waits until 100 objects (a quarter of 400) are pending.
  for (int i = 0; i < 30; ++i) keep.push_back(gc.make<List>());
  CHECK(gc.get_count()[2] > 1);
  CHECK(gc.get_stats()[2].collections == full);
  for (int i = 0; i < 100; ++i) keep.push_back(gc.make<List>());
  CHECK(gc.get_stats()[2].collections == full + 1);
  gc.disable();
}

TEST_CASE_METHOD(GcTest, "DEBUG_STATS and DEBUG_COLLECTABLE print CPython's lines", "[gc]") {
  std::ostringstream out;
  gc.set_debug_output(out);
  gc.set_debug(heapsnap::gc::kDebugStats | heapsnap::gc::kDebugCollectable);
  CHECK(gc.get_debug() == 3u);
  Ref<List> keep = gc.make<List>();
  Ref<List> l = gc.make<List>();
  l->append(l);
  l.reset();
  CHECK(gc.collect(0) == 1);
  const std::string text = out.str();
  CHECK_THAT(text, Catch::StartsWith("gc: collecting generation 0...\n"
                                     "gc: objects in each generation: 2 0 0\n"
                                     "gc: objects in permanent generation: 0\n"
                                     "gc: collectable <pymodel::List 0x"));
  CHECK_THAT(text, Catch::Contains("gc: done, 1 unreachable, 0 uncollectable, "));
  CHECK_THAT(text, Catch::EndsWith("s elapsed\n"));
  gc.set_debug(0);
}

TEST_CASE_METHOD(GcTest, "DEBUG_UNCOLLECTABLE prints each uncollectable object", "[gc]") {
  std::ostringstream out;
  gc.set_debug_output(out);
  gc.set_debug(heapsnap::gc::kDebugUncollectable);
  Ref<Type> type = make_class(gc, "X");
  Ref<LegacyInstance> x = gc.make<LegacyInstance>(type);
  x->set("x", x);
  x.reset();
  CHECK(gc.collect() == 1);
  CHECK(out.str().rfind("gc: uncollectable <pymodel::LegacyInstance 0x", 0) == 0);
  gc.set_debug(0);
  REQUIRE(gc.garbage().size() == 1);
  gc.garbage()[0]->clear();
  gc.garbage().clear();
  LegacyInstance::tp_del_calls = 0;
}

TEST_CASE("the global collector is one object", "[gc]") {
  CHECK(&heapsnap::gc::global() == &heapsnap::gc::global());
}

}  // namespace
}  // namespace pymodel
