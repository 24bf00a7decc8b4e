#include "collector/reachability.h"

#include <link.h>
#include <pthread.h>
#include <ucontext.h>

#include <vector>

namespace heapsnap::collector {
namespace {

struct Block {
  const std::byte* address;
  std::size_t scan_bytes;  // the requested size: bytes past it are stale and would invent pointers
  Reachability state;
};

struct Graph {
  std::vector<Block> blocks;
  std::unordered_map<const void*, std::uint32_t> index_of;  // block start -> index

  // The block holding `word`, if `word` points into a live non-internal block.
  Block* target(std::uintptr_t word) {
    if (word < 4096) return nullptr;
    const alloc::BlockInfo block = alloc::find_block(reinterpret_cast<const void*>(word));
    if (block.site == alloc::SiteTag::Free) return nullptr;
    const auto it = index_of.find(block.address);
    return it == index_of.end() ? nullptr : &blocks[it->second];
  }
};

template <typename Visit>
void for_each_word(const void* begin, std::size_t bytes, Visit&& visit) {
  auto first = (reinterpret_cast<std::uintptr_t>(begin) + 7) & ~std::uintptr_t{7};
  const auto last = reinterpret_cast<std::uintptr_t>(begin) + bytes;
  for (; first + sizeof(std::uintptr_t) <= last; first += sizeof(std::uintptr_t))
    visit(*reinterpret_cast<const std::uintptr_t*>(first));
}

class Marker {
 public:
  explicit Marker(Graph& graph) : graph_(graph) {}

  void scan_root(const void* begin, std::size_t bytes) {
    for_each_word(begin, bytes, [&](std::uintptr_t word) { reach(word); });
    drain();
  }

 private:
  void reach(std::uintptr_t word) {
    Block* block = graph_.target(word);
    if (block == nullptr || block->state == Reachability::Reachable) return;
    block->state = Reachability::Reachable;
    work_.push_back(block);
  }
  void drain() {  // iterative: a 100k-node list must not overflow the stack
    while (!work_.empty()) {
      const Block* block = work_.back();
      work_.pop_back();
      for_each_word(block->address, block->scan_bytes, [&](std::uintptr_t word) { reach(word); });
    }
  }
  Graph& graph_;
  std::vector<Block*> work_;
};

struct ModuleRootsContext {
  Marker* marker;
};

int scan_module(dl_phdr_info* info, std::size_t, void* data) {
  auto* marker = static_cast<ModuleRootsContext*>(data)->marker;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_W) != 0)
      marker->scan_root(reinterpret_cast<const void*>(info->dlpi_addr + segment.p_vaddr), segment.p_memsz);
    else if (segment.p_type == PT_TLS && info->dlpi_tls_data != nullptr)
      marker->scan_root(info->dlpi_tls_data, segment.p_memsz);
  }
  return 0;
}

// [low, high) of the calling thread's stack: `low` is the caller's marker.
const void* stack_top() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return nullptr;
  void* base = nullptr;
  std::size_t size = 0;
  pthread_attr_getstack(&attr, &base, &size);
  pthread_attr_destroy(&attr);
  return static_cast<const std::byte*>(base) + size;
}

}  // namespace

Reachability ReachabilityResult::of(const void* block_start) const {
  const auto it = state_.find(block_start);
  return it == state_.end() ? Reachability::NotAnalyzed : it->second;
}

[[gnu::noinline]] ReachabilityResult analyze_reachability() {
  // The stack is scanned from this frame's top up: this frame and those it calls hold block addresses
  // the program never had. The registers (the caller's callee-saved ones among them) are scanned
  // from a getcontext copy, which unlike setjmp does not mangle them.
  const void* stack_low = __builtin_frame_address(0);
  ucontext_t registers;
  getcontext(&registers);

  Graph graph;
  alloc::walk_heap(
      [](void* context, const alloc::BlockInfo& block) {
        if (block.site == alloc::SiteTag::Internal) return;
        static_cast<Graph*>(context)->blocks.push_back(
            {static_cast<const std::byte*>(block.address), block.requested, Reachability::Direct});
      },
      &graph);
  graph.index_of.reserve(graph.blocks.size());
  for (std::uint32_t i = 0; i < graph.blocks.size(); ++i) graph.index_of.emplace(graph.blocks[i].address, i);

  Marker marker(graph);
  ModuleRootsContext context{&marker};
  dl_iterate_phdr(scan_module, &context);
  marker.scan_root(&registers.uc_mcontext, sizeof registers.uc_mcontext);
  if (const void* top = stack_top(); top != nullptr && top > stack_low)
    marker.scan_root(stack_low, static_cast<std::size_t>(static_cast<const std::byte*>(top) - static_cast<const std::byte*>(stack_low)));

  // Unreachable blocks that another unreachable block points to are indirect leaks.
  for (Block& block : graph.blocks) {
    if (block.state == Reachability::Reachable) continue;
    for_each_word(block.address, block.scan_bytes, [&](std::uintptr_t word) {
      Block* target = graph.target(word);
      if (target != nullptr && target != &block && target->state == Reachability::Direct) target->state = Reachability::Indirect;
    });
  }

  ReachabilityResult result;
  result.state_.reserve(graph.blocks.size());
  for (const Block& block : graph.blocks) result.state_.emplace(block.address, block.state);
  return result;
}

}  // namespace heapsnap::collector
