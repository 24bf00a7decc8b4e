#pragma once
// A circular doubly linked list of objects through their GcHeader, with a sentinel (CPython's
// gc_list_*): O(1) append, unlink, move and splice, no allocation. Every object a Collector owns is in
// exactly one of its lists at any time, so untracking or destroying an object is an unlink whichever
// list, a generation's or one private to a running collection, holds it.
//
// Internal to the collector: the lock of the owning Collector guards every list.

#include <cstddef>

#include "gc/gc_object.h"

namespace heapsnap::gc::detail {

class GcList {
 public:
  GcList() noexcept { head_.gc_prev = head_.gc_next = &head_; }
  GcList(const GcList&) = delete;  // the sentinel is pointed to by the first and last elements
  GcList& operator=(const GcList&) = delete;

  bool empty() const noexcept { return head_.gc_next == &head_; }
  GcHeader* first() noexcept { return head_.gc_next; }
  const GcHeader* end() const noexcept { return &head_; }  // iterate: h = first(); h != end(); h = h->gc_next

  static void unlink(GcHeader& node) noexcept {
    node.gc_prev->gc_next = node.gc_next;
    node.gc_next->gc_prev = node.gc_prev;
    node.gc_prev = node.gc_next = nullptr;
  }
  void push_back(GcHeader& node) noexcept {  // `node` must be in no list
    node.gc_prev = head_.gc_prev;
    node.gc_next = &head_;
    head_.gc_prev->gc_next = &node;
    head_.gc_prev = &node;
  }
  void move_in(GcHeader& node) noexcept {  // from whichever list holds it to the end of this one
    unlink(node);
    push_back(node);
  }
  void splice_back(GcList& from) noexcept {  // every element of `from`, in order, to the end of this one
    if (from.empty()) return;
    GcHeader* first = from.head_.gc_next;
    GcHeader* last = from.head_.gc_prev;
    first->gc_prev = head_.gc_prev;
    head_.gc_prev->gc_next = first;
    last->gc_next = &head_;
    head_.gc_prev = last;
    from.head_.gc_prev = from.head_.gc_next = &from.head_;
  }
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const GcHeader* h = head_.gc_next; h != &head_; h = h->gc_next) ++n;
    return n;
  }
  // Calls fn(Object&) for each element; fn must not unlink any element.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (GcHeader* h = head_.gc_next; h != &head_; h = h->gc_next) fn(object_of(*h));
  }

 private:
  GcHeader head_;  // sentinel: gc_next is the first element, gc_prev the last
};

}  // namespace heapsnap::gc::detail
