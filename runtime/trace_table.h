#pragma once
// Interned call stacks. Each distinct stack is stored once and named by a SiteTag (the id the
// allocator keeps per block). Lookups of recently seen stacks hit a per-thread cache and take no lock;
// a stack not in the cache is interned under one spinlock. Records are immutable once published and
// never move, so reading one needs no lock either.

#include <cstddef>
#include <cstdint>

#include "allocator/site_tag.h"
#include "runtime/stack_capture.h"

namespace heapsnap {

struct TraceRecord {
  std::uint64_t hash;
  std::uint32_t depth;          // frames stored
  std::uint32_t total;          // frames the stack had (total_nframe)
  std::uintptr_t frames[1];     // `depth` return addresses, most recent first (flexible array)
};

// The tag for `stack`, interning it when new. Returns SiteTag::Untraced when heapsnap is out of memory.
alloc::SiteTag intern_stack(const CapturedStack& stack) noexcept;

// The record of a tag returned by intern_stack, or null for Untraced/Free/unknown tags.
const TraceRecord* trace_record(alloc::SiteTag tag) noexcept;

std::size_t interned_trace_count() noexcept;
std::size_t trace_table_bytes() noexcept;  // memory the table holds

// fork() discipline: hold the lock across fork so the child never inherits it held by a thread that
// does not exist there.
void trace_table_before_fork() noexcept;
void trace_table_after_fork() noexcept;  // parent and child

}  // namespace heapsnap
