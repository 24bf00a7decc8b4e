#include "runtime/domain_tracker.h"

#include <mutex>
#include <unordered_map>

#include "runtime/recursion_guard.h"

namespace heapsnap {
namespace {

struct Key {
  DomainId domain;
  std::uintptr_t address;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  std::size_t operator()(const Key& key) const noexcept { return std::hash<std::uintptr_t>()(key.address) ^ key.domain; }
};
struct Entry {
  std::size_t size;
  alloc::SiteTag site;
};

std::mutex g_mutex;

// Never destroyed: blocks may be untracked from static destructors that run after ours.
std::unordered_map<Key, Entry, KeyHash>& blocks_unlocked() {
  static auto* blocks = new std::unordered_map<Key, Entry, KeyHash>();
  return *blocks;
}

}  // namespace

bool track_block(DomainId domain, std::uintptr_t address, std::size_t size, alloc::SiteTag site) {
  RecursionGuard guard;  // the map's nodes are heapsnap's own memory
  std::lock_guard lock(g_mutex);
  try {
    blocks_unlocked()[{domain, address}] = {size, site};
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

TrackedBlock untrack_block(DomainId domain, std::uintptr_t address) {
  RecursionGuard guard;
  std::lock_guard lock(g_mutex);
  const auto it = blocks_unlocked().find({domain, address});
  if (it == blocks_unlocked().end()) return {domain, address, 0, alloc::SiteTag::Free};
  const TrackedBlock block{domain, address, it->second.size, it->second.site};
  blocks_unlocked().erase(it);
  return block;
}

std::vector<TrackedBlock> tracked_blocks() {
  RecursionGuard guard;
  std::lock_guard lock(g_mutex);
  std::vector<TrackedBlock> blocks;
  blocks.reserve(blocks_unlocked().size());
  for (const auto& [key, entry] : blocks_unlocked()) blocks.push_back({key.domain, key.address, entry.size, entry.site});
  return blocks;
}

void untrack_all_blocks() {
  RecursionGuard guard;
  std::lock_guard lock(g_mutex);
  blocks_unlocked().clear();
}

void domain_tracker_before_fork() noexcept { g_mutex.lock(); }
void domain_tracker_after_fork() noexcept { g_mutex.unlock(); }

}  // namespace heapsnap
