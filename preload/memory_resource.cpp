#include "preload/memory_resource.h"

#include <new>

#include "allocator/allocator.h"
#include "runtime/tracing.h"

namespace heapsnap {
namespace {

class ArenaResource final : public std::pmr::memory_resource {
 private:
  // Only do_allocate itself: memory_resource::allocate is inline, and where it is not (-O0) its
  // frame is in the standard library headers, which snapshots fold away.
  static constexpr std::uint32_t kOwnFrames = 1;

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    const alloc::SiteTag site = tracing::site_for_allocation(kOwnFrames, bytes);
    void* p = alloc::allocate(bytes, alignment, site);
    if (p == nullptr) throw std::bad_alloc();
    tracing::account_allocated(site, bytes, p);
    return p;
  }
  void do_deallocate(void* p, std::size_t, std::size_t) override { tracing::account_freed(alloc::deallocate(p)); }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

}  // namespace

std::pmr::memory_resource* arena_resource() noexcept {
  static ArenaResource* resource = new ArenaResource();  // leaked on purpose: outlives every user
  return resource;
}

}  // namespace heapsnap
