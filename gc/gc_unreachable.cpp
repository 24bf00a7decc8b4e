#include "gc/gc_unreachable.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace heapsnap::gc::detail {
namespace {

constexpr std::uint8_t kCollectionFlags = kCollecting | kUnreachable;

void clear_flags(GcHeader& header, std::uint8_t flags) { header.gc_flags &= static_cast<std::uint8_t>(~flags); }

// A traverse() reported more references to `object` than its refcount: the refcount is wrong, and
// freeing by it would be a use after free. CPython's gc_decref fails the same way (a fatal error).
[[noreturn]] void refcount_too_small(const Object& object) {
  std::fprintf(stderr,
               "heapsnap gc: refcount is too small: object <%s at %p> has refcount %" PRIdPTR
               " but the objects being collected report more references to it\n",
               type_name(object).c_str(), address_of(object), object.refcount());
  std::abort();
}

// update_refs: gc_refs starts at the refcount of every object of the set.
void update_refs(GcList& young) {
  young.for_each([](Object& object) {
    GcHeader& header = header_of(object);
    header.gc_refs = object.refcount();
    header.gc_flags |= kCollecting;
  });
}

// subtract_refs: references from inside the set do not keep anything alive.
class SubtractRefs final : public Visitor {
  void visit(Object& referent, const void*) override {
    GcHeader& header = header_of(referent);
    if ((header.gc_flags & kCollecting) == 0) return;  // older generation, frozen, untracked, atomic
    if (header.gc_refs <= 0) refcount_too_small(referent);
    --header.gc_refs;
  }
};

// visit_reachable: a referent of a reachable object is reachable. One still ahead of the scan only
// needs gc_refs > 0; one already moved to `unreachable` goes back to the end of `young`, where the scan
// will reach it again.
class MarkReachable final : public Visitor {
 public:
  explicit MarkReachable(GcList& young) : young_(young) {}

 private:
  void visit(Object& referent, const void*) override {
    GcHeader& header = header_of(referent);
    if ((header.gc_flags & kCollecting) == 0) return;  // not in the set, or already scanned
    if ((header.gc_flags & kUnreachable) != 0) {
      young_.move_in(header);
      clear_flags(header, kUnreachable);
      header.gc_refs = 1;
    } else if (header.gc_refs == 0) {
      header.gc_refs = 1;
    }
  }
  GcList& young_;
};

// move_unreachable: one pass over `young`, which grows as MarkReachable moves objects back to its end.
// Objects with gc_refs > 0 are reachable: their referents are marked and the scan moves on; objects
// with gc_refs == 0 are moved, tentatively, to `unreachable`.
void move_unreachable(GcList& young, GcList& unreachable) {
  MarkReachable mark(young);
  GcHeader* header = young.first();
  while (header != young.end()) {
    if (header->gc_refs != 0) {
      object_of(*header).traverse(mark);
      clear_flags(*header, kCollecting);
      header = header->gc_next;  // read after traverse(): it may have appended to `young`
    } else {
      GcHeader* next = header->gc_next;
      unreachable.move_in(*header);
      header->gc_flags |= kUnreachable;
      header = next;
    }
  }
}

// visit_move: an unreachable object reached from an uncollectable one is uncollectable too.
class MoveToFinalizers final : public Visitor {
 public:
  explicit MoveToFinalizers(GcList& finalizers) : finalizers_(finalizers) {}

 private:
  void visit(Object& referent, const void*) override {
    GcHeader& header = header_of(referent);
    if ((header.gc_flags & kCollecting) == 0) return;
    finalizers_.move_in(header);
    clear_flags(header, kCollectionFlags);
  }
  GcList& finalizers_;
};

}  // namespace

void deduce_unreachable(GcList& young, GcList& unreachable) {
  update_refs(young);
  SubtractRefs subtract;
  young.for_each([&](Object& object) { object.traverse(subtract); });
  move_unreachable(young, unreachable);
}

void move_legacy_finalizers(GcList& unreachable, GcList& finalizers) {
  for (GcHeader* header = unreachable.first(); header != unreachable.end();) {
    GcHeader* next = header->gc_next;
    clear_flags(*header, kUnreachable);
    if ((header->gc_flags & kHasLegacyFinalizer) != 0) {
      finalizers.move_in(*header);
      clear_flags(*header, kCollecting);
    }
    header = next;
  }
  // The list grows as the scan goes: objects appended are scanned in turn.
  MoveToFinalizers move(finalizers);
  for (GcHeader* header = finalizers.first(); header != finalizers.end(); header = header->gc_next)
    object_of(*header).traverse(move);
}

void finalize_garbage(GcList& collectable) {
  // A finalizer may free any object of `collectable` by refcount (unlinking it), so the loop always
  // takes the first one and moves it to `seen` before calling user code.
  GcList seen;
  while (!collectable.empty()) {
    GcHeader& header = *collectable.first();
    seen.move_in(header);
    if ((header.gc_flags & kHasFinalizer) == 0 || (header.gc_flags & kFinalized) != 0) continue;
    header.gc_flags |= kFinalized;
    Ref<Object> hold(&object_of(header));
    hold->finalize();
  }
  collectable.splice_back(seen);
}

void handle_resurrected_objects(GcList& unreachable, GcList& still_unreachable, GcList& old) {
  unreachable.for_each([](Object& object) { clear_flags(header_of(object), kCollectionFlags); });
  deduce_unreachable(unreachable, still_unreachable);
  still_unreachable.for_each([](Object& object) { clear_flags(header_of(object), kUnreachable); });
  old.splice_back(unreachable);  // what is left in it was resurrected
}

void delete_garbage(GcList& collectable, GcList& old, std::vector<Ref<Object>>* save_all) {
  while (!collectable.empty()) {
    GcHeader* header = collectable.first();
    if (save_all != nullptr) {
      save_all->emplace_back(&object_of(*header));
    } else {
      Ref<Object> hold(&object_of(*header));
      hold->clear();
    }  // `hold` released: the object may be gone, and with it others of `collectable`
    if (!collectable.empty() && collectable.first() == header) {  // still alive: it may die later
      clear_flags(*header, kCollectionFlags);
      old.move_in(*header);
    }
  }
}

}  // namespace heapsnap::gc::detail
