#pragma once
// The precise collector for refcounted object graphs: CPython's gc module (3.11 semantics) in C++.
// Reference counting frees most objects; the collector finds the groups of tracked objects that keep
// each other alive and nothing else reaches (cycles), finalizes them, and breaks them with clear().
//
//   Collector gc;
//   Ref<Node> a = gc.make<Node>(), b = gc.make<Node>();   // tracked, in generation 0
//   a->next = b; b->next = a;                             // a cycle
//   a.reset(); b.reset();                                 // unreachable, refcounts still 1
//   gc.collect();                                         // == 2: both finalized, cleared, freed
//
// The algorithm (see docs/gc.md): gc_refs = refcount for every object of the collected generations;
// subtract one for every reference one of them holds to another (traverse); objects left with
// gc_refs > 0 are referenced from outside, the roots; everything reachable from a root survives and
// moves to the next generation; the rest is unreachable. Unreachable objects reachable from one with a
// legacy finalizer are uncollectable (they go to garbage()); the others are finalized once; those a
// finalizer resurrected survive; the remaining ones are cleared, which frees them by refcount.
//
// Thread safety: a Collector is a GIL. Every member function takes its recursive mutex, so calls from
// several threads are serialized, and a thread may call back into the collector from a finalizer,
// clear() or a callback. But a collection reads the refcounts and references of every tracked object:
// a program whose threads share tracked objects (or create and drop them while another thread may
// collect) must hold lock() while it changes refcounts or references, as CPython code holds the GIL.

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "gc/gc_cycle_report.h"
#include "gc/gc_list.h"
#include "gc/gc_object.h"
#include "gc/gc_ref.h"

namespace heapsnap::gc {

inline constexpr int kGenerations = 3;

// set_debug() flags, with CPython's values.
enum Debug : unsigned {
  kDebugStats = 1,           // DEBUG_STATS: a summary of every collection on the debug output
  kDebugCollectable = 2,     // DEBUG_COLLECTABLE: every collectable object found
  kDebugUncollectable = 4,   // DEBUG_UNCOLLECTABLE: every uncollectable object found (and at shutdown)
  kDebugSaveAll = 32,        // DEBUG_SAVEALL: unreachable objects go to garbage() instead of being freed
  kDebugLeak = kDebugCollectable | kDebugUncollectable | kDebugSaveAll,  // DEBUG_LEAK
};

struct GenerationStats {  // one entry of get_stats()
  std::uint64_t collections = 0;    // collections of this generation (and the younger ones with it)
  std::uint64_t collected = 0;      // objects collected by them
  std::uint64_t uncollectable = 0;  // objects found uncollectable by them
};

enum class Phase { Start, Stop };
std::string_view to_string(Phase phase);  // "start", "stop"
struct CallbackInfo {
  int generation = 0;
  std::size_t collected = 0;      // 0 at Start
  std::size_t uncollectable = 0;  // 0 at Start
};
using Callback = std::function<void(Phase, const CallbackInfo&)>;
enum class CallbackId : std::uint64_t {};

class Collector final : public detail::Owner {
 public:
  Collector();
  // Like interpreter shutdown: a last full collection (without callbacks), a warning on the debug
  // output if garbage() is not empty ("gc: N uncollectable objects at shutdown"), then the objects
  // still alive are let go: they stay valid, refcounted, untracked, and no longer refer to this.
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Allocates a GC object, tracked in generation 0 (PyObject_GC_New + PyObject_GC_Track). Counts an
  // allocation first, which runs a collection when enabled and generation 0's count exceeds its
  // threshold: the new object is not tracked yet, so it never takes part in that collection.
  template <class T, class... Args>
  Ref<T> make(Args&&... args);

  // Tracking of objects made by this collector (others: std::invalid_argument). Both are idempotent.
  void track(Object& object) override;
  void untrack(Object& object) override;
  bool is_tracked(const Object& object) const;
  bool is_finalized(const Object& object) const;

  void enable();
  void disable();
  bool isenabled() const;

  // Collects generations 0..generation; returns the number of unreachable objects found: those
  // collected plus those uncollectable (CPython's count: objects a finalizer resurrected, or that died
  // by refcount while finalizers ran, are not counted). Returns 0 when called during a collection
  // (from a finalizer or callback). std::invalid_argument unless 0 <= generation < kGenerations.
  std::size_t collect(int generation = kGenerations - 1);

  std::array<std::int64_t, kGenerations> get_threshold() const;
  void set_threshold(std::int64_t threshold0, std::optional<std::int64_t> threshold1 = {},
                     std::optional<std::int64_t> threshold2 = {});
  // Generation 0: allocations minus deallocations of GC objects since its last collection; 1 and 2:
  // collections of the next younger generation since their own last collection.
  std::array<std::int64_t, kGenerations> get_count() const;
  std::array<GenerationStats, kGenerations> get_stats() const;

  void set_debug(unsigned flags);
  unsigned get_debug() const;
  void set_debug_output(std::ostream& out);  // where debug flags print; std::cerr by default

  // Uncollectable objects, and with kDebugSaveAll every unreachable one. The program may inspect and
  // edit it; a multithreaded program holds lock() while it does.
  std::vector<Ref<Object>>& garbage();

  // Tracked objects of one generation, or of all of them (not the permanent generation).
  std::vector<Ref<Object>> get_objects(std::optional<int> generation = {}) const;
  // Tracked objects (not frozen ones) whose traverse() reports any of `objects`.
  std::vector<Ref<Object>> get_referrers(std::initializer_list<const Object*> objects) const;
  // What traverse() of each of `objects` reports, duplicates included.
  std::vector<Ref<Object>> get_referents(std::initializer_list<const Object*> objects) const;

  // freeze(): every tracked object moves to the permanent generation, which collections ignore (its
  // objects are roots); unfreeze() moves them back into the oldest generation.
  void freeze();
  void unfreeze();
  std::size_t get_freeze_count() const;

  // gc.callbacks: called with Start before and Stop after every collection that collect() or an
  // allocation runs. A callback that throws is reported on the debug output; the others still run.
  CallbackId add_callback(Callback callback);
  bool remove_callback(CallbackId id);

  // Cycle reports: while on, every collection records the cycles among the objects it finds
  // unreachable (before finalizers run), as heapsnap::Cycle values; last_cycles() returns those of
  // the last collection. `traceback_of` gives each member's TracebackIndex (into a table of the
  // caller's), called during the collection while the member is alive; without it, every member gets
  // TracebackIndex{0}. Off by default: recording costs a traverse and a hash lookup per unreachable
  // object.
  void record_cycles(bool on, TracebackHook traceback_of = {});
  std::vector<GcCycle> last_cycles() const;

  // The GIL: hold it while changing tracked objects that another thread may collect.
  [[nodiscard]] std::unique_lock<std::recursive_mutex> lock() const;

  // Checks the lists and flags (each owned object in exactly one list, consistent links, no collection
  // flag left set); throws std::logic_error naming the broken invariant. For tests and debug builds.
  void validate() const;

 private:
  friend class Object;

  struct Generation {
    detail::GcList objects;
    std::int64_t threshold = 0;
    std::int64_t count = 0;
  };
  struct Collected {
    std::size_t collected = 0;
    std::size_t uncollectable = 0;
  };

  void count_allocation();
  void adopt(Object& object, std::uint32_t size, std::uint8_t hook_flags);
  detail::GcHeader& owned_header(Object& object, const char* operation) const;  // or std::invalid_argument
  void untrack_unlocked(detail::GcHeader& header);
  void forget(Object& object) noexcept override;  // the object is being deleted

  void collect_generations_unlocked();
  std::size_t collect_with_callback_unlocked(int generation);
  Collected collect_main_unlocked(int generation);
  void invoke_callbacks_unlocked(Phase phase, const CallbackInfo& info);
  void print_object_unlocked(std::string_view what, const Object& object) const;
  void print_shutdown_stats_unlocked() const;
  static int checked_generation(int generation);

  mutable std::recursive_mutex mutex_;
  std::array<Generation, kGenerations> generations_;
  detail::GcList permanent_;  // frozen objects
  detail::GcList untracked_;  // owned, not tracked (untrack(), or released and about to be deleted)
  std::int64_t long_lived_total_ = 0;    // objects in the oldest generation after its last collection
  std::int64_t long_lived_pending_ = 0;  // objects that reached it since
  bool enabled_ = true;
  bool collecting_ = false;
  unsigned debug_ = 0;
  std::ostream* debug_output_;
  std::array<GenerationStats, kGenerations> stats_{};
  std::vector<Ref<Object>> garbage_;
  std::vector<std::pair<CallbackId, Callback>> callbacks_;
  std::uint64_t next_callback_id_ = 0;
  bool record_cycles_ = false;
  TracebackHook traceback_of_;
  std::vector<GcCycle> last_cycles_;
};

// The program-wide collector (CPython's gc module has one per interpreter). Never destroyed.
Collector& global();

template <class T, class... Args>
Ref<T> Collector::make(Args&&... args) {
  static_assert(std::is_base_of_v<Object, T>, "make<T>: T must derive from gc::Object");
  count_allocation();
  T* object = nullptr;
  try {
    object = new T(std::forward<Args>(args)...);
  } catch (...) {
    std::lock_guard guard(mutex_);
    if (generations_[0].count > 0) --generations_[0].count;
    throw;
  }
  adopt(*object, sizeof(T), detail::hook_flags<T>());
  return Ref<T>::adopt(object);
}

}  // namespace heapsnap::gc
