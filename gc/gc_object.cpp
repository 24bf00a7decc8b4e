#include "gc/gc_object.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>
#include <vector>


namespace heapsnap::gc {
namespace detail {

GcHeader& header_of(Object& object) noexcept { return object; }
const GcHeader& header_of(const Object& object) noexcept { return object; }
Object& object_of(GcHeader& header) noexcept { return static_cast<Object&>(header); }

void init_header(Object& object, std::uint32_t size, std::uint8_t hook_flags) noexcept {
  GcHeader& header = header_of(object);
  header.gc_size = size;
  header.gc_flags = hook_flags;
}

}  // namespace detail

namespace {

// Objects whose refcount reached zero while another object was being destroyed on this thread. The
// outermost release destroys them one by one, so a destructor that drops the last reference to the
// next link of a long chain does not recurse (CPython's trashcan, without a depth limit).
struct Trashcan {
  std::vector<Object*> pending;
  bool draining = false;
};
thread_local Trashcan trashcan;

}  // namespace

void Object::release_last_reference() noexcept {
  // Untracked at once: a collection that runs before the object is destroyed (from another object's
  // finalizer or destructor) must not see an object with refcount zero.
  if (gc_collector != nullptr && (gc_flags & detail::kTracked) != 0) {
    gc_collector->untrack(*this);
    gc_flags |= detail::kWasTracked;
  }
  if (trashcan.draining) {
    trashcan.pending.push_back(this);
    return;
  }
  trashcan.draining = true;
  destroy(*this);
  while (!trashcan.pending.empty()) {
    Object* next = trashcan.pending.back();
    trashcan.pending.pop_back();
    destroy(*next);
  }
  trashcan.draining = false;
}

// subtype_dealloc: the finalizers run on a temporarily restored reference; if they leave more than it,
// the object was resurrected and lives on (tracked again if it was).
void Object::destroy(Object& object) noexcept {
  const bool finalize_now = (object.gc_flags & detail::kHasFinalizer) != 0 && (object.gc_flags & detail::kFinalized) == 0;
  if (finalize_now || (object.gc_flags & detail::kHasLegacyFinalizer) != 0) {
    object.refcount_ = 1;
    if (finalize_now) {
      object.gc_flags |= detail::kFinalized;
      object.finalize();
    }
    if ((object.gc_flags & detail::kHasLegacyFinalizer) != 0) object.legacy_finalize();
    if (--object.refcount_ != 0) {
      if (object.gc_collector != nullptr && (object.gc_flags & detail::kWasTracked) != 0) object.gc_collector->track(object);
      object.gc_flags &= static_cast<std::uint8_t>(~detail::kWasTracked);
      return;
    }
  }
  if (object.gc_collector != nullptr) object.gc_collector->forget(object);
  delete &object;
}

std::string type_name(const Object& object) {
  const char* mangled = typeid(object).name();
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                        &std::free);
  return status == 0 && demangled ? demangled.get() : mangled;
}

const void* address_of(const Object& object) noexcept { return dynamic_cast<const void*>(&object); }

}  // namespace heapsnap::gc
