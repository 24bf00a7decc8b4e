#pragma once
// The object model of the precise collector (CPython's gc module, in C++): an intrusive refcount, and
// three hooks the collector calls, as CPython calls a type's slots.
//
//   traverse(visit)  tp_traverse: report every reference the object owns. The collector subtracts
//                    these from refcounts to tell references from outside the tracked graph (roots)
//                    from references inside it. Must not change anything.
//   clear()          tp_clear: drop the owned references, to break a cycle of garbage. One object per
//                    cycle implementing it is enough (CPython's tuples have none either).
//   finalize()       tp_finalize (PEP 442): called at most once per object, before the object is
//                    cleared by a collection or destroyed by its refcount. It may resurrect the object
//                    (store a new reference to it somewhere); a resurrected object survives.
//   legacy_finalize()  tp_del: called every time the refcount reaches zero. An object with one is
//                    never cleared by a collection: when it is cyclic garbage, it and everything it
//                    reaches is uncollectable and it goes to Collector::garbage(), as in CPython.
//
// Overrides of finalize() and legacy_finalize() must be public: whether a class has them is decided at
// compile time by Collector::make<T> and make_atomic<T> (a type without tp_finalize is never marked
// finalized, as in CPython). All hooks are noexcept: they run in the middle of a collection.
//
// An object starts with refcount 1, owned by whoever created it (make<T> hands it to a Ref<T>), and is
// deleted when the refcount drops to zero. Deletion never recurses: an object released while another
// is being destroyed on the same thread waits in a thread-local queue (CPython's "trashcan"), so
// dropping a 100,000-long chain uses constant stack.

#include <cstdint>
#include <string>
#include <type_traits>

namespace heapsnap::gc {

class Collector;
class Object;
template <class T>
class Ref;

namespace detail {

enum Flag : std::uint8_t {
  kTracked = 1 << 0,             // in a generation, the permanent generation, or a collection's list
  kCollecting = 1 << 1,          // in the set the running collection examines
  kUnreachable = 1 << 2,         // tentatively unreachable during move_unreachable
  kFinalized = 1 << 3,           // finalize() has been called
  kHasFinalizer = 1 << 4,        // the dynamic type overrides finalize()
  kHasLegacyFinalizer = 1 << 5,  // the dynamic type overrides legacy_finalize()
  kWasTracked = 1 << 6,          // refcount reached zero while tracked: re-tracked if resurrected
};

// What an object asks of the collector that owns it when its last reference goes. Collector implements
// it, so that objects need not know the collector's class (gc_object does not depend on gc_collector).
class Owner {
 public:
  virtual void track(Object& object) = 0;            // a finalizer resurrected it: tracked again
  virtual void untrack(Object& object) = 0;          // its refcount reached zero
  virtual void forget(Object& object) noexcept = 0;  // it is being deleted

 protected:
  ~Owner() = default;
};

// The collector's part of every object (CPython's PyGC_Head plus what CPython keeps in the type).
// Object inherits it privately; the gc_ prefix keeps its names out of the way of derived classes'.
struct GcHeader {
  GcHeader* gc_prev = nullptr;        // neighbours in the owner's list that holds the object; null when
  GcHeader* gc_next = nullptr;        // the object has no owner
  std::intptr_t gc_refs = 0;          // collection scratch: refcount minus references from collected objects
  Owner* gc_collector = nullptr;      // owner: null for make_atomic objects and after the owner is destroyed
  std::uint32_t gc_size = 0;          // sizeof the dynamic type (set by make/make_atomic)
  std::uint8_t gc_flags = 0;          // Flag bits
};

GcHeader& header_of(Object& object) noexcept;
const GcHeader& header_of(const Object& object) noexcept;
Object& object_of(GcHeader& header) noexcept;

// Which optional hooks T overrides: decided from the type, so a collection never has to ask the object.
template <class T>
constexpr std::uint8_t hook_flags() {
  std::uint8_t flags = 0;
  if constexpr (!std::is_same_v<decltype(&T::finalize), void (Object::*)() noexcept>) flags |= kHasFinalizer;
  if constexpr (!std::is_same_v<decltype(&T::legacy_finalize), void (Object::*)() noexcept>)
    flags |= kHasLegacyFinalizer;
  return flags;
}

void init_header(Object& object, std::uint32_t size, std::uint8_t hook_flags) noexcept;

}  // namespace detail

// What traverse() reports references to. `field` is the address of the member holding the reference
// when it lies inside the object (a Ref<T> member reports its own address), so that cycle reports can
// give the member's byte offset; references from elsewhere (a std::vector's buffer) give no offset.
class Visitor {
 public:
  template <class T>
  void operator()(const Ref<T>& ref) {
    if (ref) visit(*ref, &ref);
  }
  void operator()(const Object* referent, const void* field = nullptr) {
    if (referent != nullptr) visit(const_cast<Object&>(*referent), field);
  }

 protected:
  ~Visitor() = default;

 private:
  virtual void visit(Object& referent, const void* field) = 0;
};

class Object : private detail::GcHeader {
 public:
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // Not atomic, like Py_INCREF under the GIL: see the thread-safety note in gc_collector.h.
  void incref() noexcept { ++refcount_; }
  // Py_DECREF: a decrement and one predicted branch. The last reference takes the slow path: the
  // owner's lock (untrack, later unlink), the finalizers, and deletion through the trashcan.
  void decref() noexcept {
    if (--refcount_ == 0) [[unlikely]]
      release_last_reference();
  }
  std::intptr_t refcount() const noexcept { return refcount_; }

  virtual void traverse(Visitor&) const noexcept {}
  virtual void clear() noexcept {}
  virtual void finalize() noexcept {}
  virtual void legacy_finalize() noexcept {}

 protected:
  Object() = default;
  virtual ~Object() = default;

 private:
  friend class Collector;
  friend detail::GcHeader& detail::header_of(Object&) noexcept;
  friend const detail::GcHeader& detail::header_of(const Object&) noexcept;
  friend Object& detail::object_of(detail::GcHeader&) noexcept;

  [[gnu::noinline]] void release_last_reference() noexcept;
  static void destroy(Object& object) noexcept;

  std::intptr_t refcount_ = 1;  // owned references; the creator holds the first
};

// A refcounted object that is not a GC object (CPython's ints and strings): never tracked, so it can
// not be part of a collected cycle. Its hooks still run on refcount death.
template <class T, class... Args>
Ref<T> make_atomic(Args&&... args);

// The dynamic type of `object`, demangled ("Node", "app::Graph"), for debug output and cycle reports.
std::string type_name(const Object& object);

// The start of the complete object (differs from &object when Object is not the first base).
const void* address_of(const Object& object) noexcept;

}  // namespace heapsnap::gc

#include "gc/gc_ref.h"

namespace heapsnap::gc {

template <class T, class... Args>
Ref<T> make_atomic(Args&&... args) {
  static_assert(std::is_base_of_v<Object, T>, "make_atomic<T>: T must derive from gc::Object");
  T* object = new T(std::forward<Args>(args)...);
  detail::init_header(*object, sizeof(T), detail::hook_flags<T>());
  return Ref<T>::adopt(object);
}

}  // namespace heapsnap::gc
