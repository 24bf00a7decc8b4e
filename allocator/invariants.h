#pragma once
// The allocator's invariant checks, in two levels as mimalloc has them (mi_assert_internal,
// mi_assert_expensive), chosen at build time by HEAPSNAP_ALLOC_ASSERT_LEVEL (allocator/CMakeLists.txt):
//   0  none (release builds): the checks cost nothing;
//   1  internal: O(1) checks on every operation (a block handed out lies in its page and is free; a
//      page's fields agree with its size class); Debug builds;
//   2  expensive: also whole free lists and pages where they change hands; ASan builds.
// A failed check prints the condition and where it is with write(2) (no stdio, no malloc: it runs
// inside malloc) and aborts.
//
// verify_heap() walks every page of every heap whatever the level: a test's or a debugger's question.

#include <cstddef>

#include "allocator/types.h"

#ifndef HEAPSNAP_ALLOC_ASSERT_LEVEL
#define HEAPSNAP_ALLOC_ASSERT_LEVEL 0
#endif

namespace heapsnap::alloc {

[[noreturn]] void invariant_failed(const char* condition, const char* file, int line) noexcept;

// Level 1 checks: O(1).
bool block_is_free_in_page(const Page* page, const void* block) noexcept;  // inside, on a boundary, tag Free
bool page_is_consistent(const Segment* segment, const Page* page) noexcept;
bool segment_is_consistent(const Segment* segment) noexcept;
// Level 2 checks: O(blocks of the page).
bool free_lists_are_consistent(const Page* page) noexcept;  // owner list; not the racing remote list

// Every small page of every segment: consistent fields, free lists of free blocks within the page,
// no more free blocks than the page has unused. Not while other threads allocate.
bool verify_heap() noexcept;

}  // namespace heapsnap::alloc

#define HEAPSNAP_ALLOC_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::heapsnap::alloc::invariant_failed(#condition, __FILE__, __LINE__))
#if HEAPSNAP_ALLOC_ASSERT_LEVEL >= 1
#define HEAPSNAP_ALLOC_ASSERT(condition) HEAPSNAP_ALLOC_CHECK(condition)
#else
#define HEAPSNAP_ALLOC_ASSERT(condition) static_cast<void>(0)
#endif
#if HEAPSNAP_ALLOC_ASSERT_LEVEL >= 2
#define HEAPSNAP_ALLOC_ASSERT_EXPENSIVE(condition) HEAPSNAP_ALLOC_CHECK(condition)
#else
#define HEAPSNAP_ALLOC_ASSERT_EXPENSIVE(condition) static_cast<void>(0)
#endif
