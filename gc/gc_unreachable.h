#pragma once
// The phases of one collection over the collector's lists (CPython's Modules/gcmodule.c), in the order
// Collector::collect_main_unlocked runs them. Internal: the caller holds the collector's lock.
//
// Flags through a collection: deduce_unreachable sets kCollecting on every object of `young`; the
// reachable ones lose it as move_unreachable reaches them, so afterwards kCollecting marks exactly the
// unreachable set (and kUnreachable too, until move_legacy_finalizers clears it). Every object leaves
// the collection with neither flag.

#include <vector>

#include "gc/gc_list.h"
#include "gc/gc_ref.h"

namespace heapsnap::gc::detail {

// Splits `young` into the objects reachable from outside it (they stay in `young`, flags cleared) and
// the others (moved to `unreachable`, kCollecting | kUnreachable). Reads refcounts and traverse() only.
void deduce_unreachable(GcList& young, GcList& unreachable);

// Moves the unreachable objects with a legacy finalizer, and every unreachable object they reach, to
// `finalizers`: they are uncollectable. Clears kUnreachable on all of `unreachable`.
void move_legacy_finalizers(GcList& unreachable, GcList& finalizers);

// Calls finalize() once on each object of `collectable` that has one and was not finalized yet.
// Finalizers may free, resurrect, untrack or create objects; `collectable` keeps those still in it.
void finalize_garbage(GcList& collectable);

// After finalizers: the objects of `unreachable` that something outside now references were
// resurrected and move to `old`; the others move to `still_unreachable` (kCollecting set).
void handle_resurrected_objects(GcList& unreachable, GcList& still_unreachable, GcList& old);

// Breaks the cycles of `collectable` with clear(), which frees them by refcount; with `save_all`, keeps
// every object in it instead. Objects that outlive this (clear() did not free them, or saved) move to
// `old`.
void delete_garbage(GcList& collectable, GcList& old, std::vector<Ref<Object>>* save_all);

}  // namespace heapsnap::gc::detail
