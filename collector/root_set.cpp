#include "collector/root_set.h"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string_view>

#include "allocator/allocator.h"
#include "allocator/config.h"
#include "allocator/os.h"
#include "runtime/proc_file.h"

namespace heapsnap::collector {
namespace {

using Kind = heapsnap::Referrer::Kind;
constexpr std::uintptr_t kPage = 4096;

struct Span {
  std::uintptr_t start;
  std::uintptr_t end;  // exclusive
};

std::string thread_name(pid_t tid) { return "thread " + std::to_string(tid); }

std::string hex_range(std::uintptr_t start, std::uintptr_t end) {
  char text[64];
  std::snprintf(text, sizeof text, "%#lx-%#lx", static_cast<unsigned long>(start), static_cast<unsigned long>(end));
  return text;
}

int collect_module(dl_phdr_info* info, std::size_t, void* data) {
  auto& roots = *static_cast<std::vector<RootRange>*>(data);
  const std::string module = info->dlpi_name != nullptr && *info->dlpi_name != '\0' ? info->dlpi_name : "<main program>";
  // The part of the writable segment that is read-only after relocation (RELRO: vtables, the GOT)
  // holds only what the loader wrote there, addresses of code and data, never of the heap.
  ElfW(Addr) relro_begin = 0, relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i)
    if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
      relro_begin = info->dlpi_phdr[i].p_vaddr;
      relro_end = relro_begin + info->dlpi_phdr[i].p_memsz;
    }
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    ElfW(Addr) begin = segment.p_vaddr;
    const ElfW(Addr) end = segment.p_vaddr + segment.p_memsz;
    if (relro_begin <= begin && begin < relro_end) begin = relro_end < end ? relro_end : end;
    if (segment.p_type == PT_LOAD && (segment.p_flags & PF_W) != 0 && begin < end)
      roots.push_back({reinterpret_cast<const void*>(info->dlpi_addr + begin), end - begin, Kind::Global, module});
    else if (segment.p_type == PT_TLS && info->dlpi_tls_data != nullptr)
      roots.push_back({info->dlpi_tls_data, segment.p_memsz, Kind::ThreadLocal, "calling thread"});
  }
  return 0;
}

// Memory that may hold the program's pointers and is not a file's: anonymous private mappings, the
// brk heap, mappings the program named with PR_SET_VMA_ANON_NAME, and the main thread's stack. Never
// device or file mappings (reading some has side effects) nor shared ones (another process's memory).
bool is_anonymous_candidate(const MemoryRegion& region) {
  if (!region.readable || !region.writable || region.shared) return false;
  const std::string_view name = region.name;
  return name.empty() || name == "[heap]" || name == "[stack]" || name.starts_with("[anon:");
}

// Sorted, merged.
std::vector<Span> normalized(std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  std::vector<Span> merged;
  for (const Span& s : spans) {
    if (s.start >= s.end) continue;
    if (!merged.empty() && s.start <= merged.back().end) merged.back().end = std::max(merged.back().end, s.end);
    else merged.push_back(s);
  }
  return merged;
}

// The parts of `span` that no excluded span covers and that are not heapsnap's segments.
template <typename Visit>
void for_each_uncovered(Span span, const std::vector<Span>& excluded, Visit&& visit) {
  auto emit_outside_segments = [&](std::uintptr_t start, std::uintptr_t end) {
    // Segments are kSegmentSize-aligned, so a unit holds heap memory from its start on, if at all: all
    // of it, or (a huge block's last unit) up to where the mapping ends.
    std::uintptr_t piece = start;
    for (std::uintptr_t unit = start & ~(alloc::kSegmentSize - 1); unit < end; unit += alloc::kSegmentSize) {
      const std::uintptr_t heap_end = alloc::heap_segment_end(reinterpret_cast<const void*>(unit));
      if (heap_end == 0) continue;
      const std::uintptr_t unit_start = std::max(unit, start);
      if (piece < unit_start) visit(Span{piece, unit_start});
      piece = std::max(piece, std::min({unit + alloc::kSegmentSize, heap_end, end}));
    }
    if (piece < end) visit(Span{piece, end});
  };
  auto it = std::upper_bound(excluded.begin(), excluded.end(), span.start, [](std::uintptr_t a, const Span& s) { return a < s.end; });
  std::uintptr_t at = span.start;
  for (; it != excluded.end() && it->start < span.end; ++it) {
    if (it->start > at) emit_outside_segments(at, it->start);
    at = std::max(at, it->end);
  }
  if (at < span.end) emit_outside_segments(at, span.end);
}

// Whether pages the process swapped out exist: mincore reports them as not resident, so skipping
// non-resident pages is exact only without swap.
bool process_has_swapped_pages() {
  const std::optional<std::string> status = read_proc_file("/proc/self/status");
  if (!status) return true;  // unknown: assume so, and read everything
  const std::string_view swapped = proc_status_field(*status, "VmSwap");
  return swapped.empty() || !swapped.starts_with("0 ");
}

// Calls visit(span) for each run of resident pages of `span`, clipped to it. Pages never touched read
// as zero and hold no pointer, and reading them would fault in memory the program never used: a JIT
// or a language runtime may reserve gigabytes of read-write address space.
template <typename Visit>
void for_each_resident_run(Span span, bool read_everything, Visit&& visit) {
  if (read_everything) return visit(span);
  constexpr std::uintptr_t kChunk = 4096 * kPage;
  std::vector<unsigned char> resident(kChunk / kPage);
  std::uintptr_t run_start = 0;  // 0: not in a run of resident pages
  for (std::uintptr_t chunk = span.start & ~(kPage - 1); chunk < span.end; chunk += kChunk) {
    const std::uintptr_t chunk_end = std::min(chunk + kChunk, (span.end + kPage - 1) & ~(kPage - 1));
    if (mincore(reinterpret_cast<void*>(chunk), chunk_end - chunk, resident.data()) != 0) {
      std::fill(resident.begin(), resident.end(), 1);  // cannot tell: read it
    }
    for (std::uintptr_t page = chunk; page < chunk_end; page += kPage) {
      const bool in = (resident[(page - chunk) / kPage] & 1) != 0;
      if (in && run_start == 0) run_start = std::max(page, span.start);
      if (!in && run_start != 0) {
        visit(Span{run_start, page});
        run_start = 0;
      }
    }
  }
  if (run_start != 0) visit(Span{run_start, span.end});
}

// glibc's thread descriptor (struct pthread) on x86-64 begins with tcbhead_t: its own address at
// offsets 0 (tcb) and 16 (self), and the process-wide stack and pointer guards at 0x28 and 0x30. Four
// words that match at a 64-byte aligned address are a thread descriptor.
struct DescriptorSignature {
  std::uintptr_t stack_guard = 0;
  std::uintptr_t pointer_guard = 0;
  bool valid = false;
};

DescriptorSignature own_descriptor_signature() {
  DescriptorSignature signature;
#if defined(__x86_64__) && defined(__GLIBC__)
  const auto* self = static_cast<const std::uintptr_t*>(__builtin_thread_pointer());
  if (self != nullptr && self[0] == reinterpret_cast<std::uintptr_t>(self) && self[2] == self[0]) {
    signature.stack_guard = self[5];
    signature.pointer_guard = self[6];
    signature.valid = true;
  }
#endif
  return signature;
}

bool is_descriptor_at(std::uintptr_t at, const DescriptorSignature& signature) {
  const auto* words = reinterpret_cast<const std::uintptr_t*>(at);
  return words[0] == at && words[2] == at && words[5] == signature.stack_guard && words[6] == signature.pointer_guard;
}

// glibc places a thread's descriptor in the last page or two of its stack mapping.
constexpr std::uintptr_t kDescriptorSearch = 2 * kPage;
// What is scanned of an exited thread's descriptor: struct pthread is about 2.3 KiB.
constexpr std::uintptr_t kDescriptorBytes = kPage;

std::optional<std::uintptr_t> thread_descriptor_in(const MemoryRegion& region, const DescriptorSignature& signature) {
  if (!signature.valid) return std::nullopt;
  const std::uintptr_t from = region.end - std::min(region.end - region.start, kDescriptorSearch);
  unsigned char resident[kDescriptorSearch / kPage] = {};
  if (mincore(reinterpret_cast<void*>(from), region.end - from, resident) != 0) return std::nullopt;
  for (std::uintptr_t at = (from + 63) & ~std::uintptr_t{63}; at + 7 * sizeof(std::uintptr_t) <= region.end; at += 64) {
    if ((resident[(at - from) / kPage] & 1) == 0) continue;
    if (is_descriptor_at(at, signature)) return at;
  }
  return std::nullopt;
}

}  // namespace

std::vector<RootRange> module_globals() {
  std::vector<RootRange> roots;
  dl_iterate_phdr(collect_module, &roots);
  return roots;
}

RootSet gather_roots(const MemoryMap& map, std::vector<RootRange> module_globals, const std::vector<LiveThread>& threads,
                     bool all_threads_known) {
  RootSet roots;

  // Never scanned as memory of the program: heapsnap's bookkeeping, and (added below) each stack's
  // dead part. Segments are left out by for_each_uncovered.
  std::vector<Span> internal;
  const bool read_everything = process_has_swapped_pages();
  const bool internal_known = alloc::for_each_internal_mapping(
      [](void* context, alloc::InternalMapping m) { static_cast<std::vector<Span>*>(context)->push_back({m.start, m.start + m.size}); },
      &internal);
  internal = normalized(std::move(internal));
  std::vector<Span> excluded = internal;

  // Module globals and TLS: scanned as they are, but not again as anonymous memory (a module's .bss
  // runs on into an anonymous mapping). Exactly: the rest of their pages may hold a thread descriptor.
  for (const RootRange& range : module_globals) {
    const auto start = reinterpret_cast<std::uintptr_t>(range.begin);
    excluded.push_back({start, start + range.bytes});
  }

  // Live stacks, from each stack pointer up to the end of its mapping; the mapping's part below the
  // stack pointer holds dead frames only.
  std::vector<std::uintptr_t> live_thread_pointers;
  for (const LiveThread& thread : threads) {
    if (thread.thread_pointer != 0) live_thread_pointers.push_back(thread.thread_pointer);
    if (thread.registers.size() > 0) roots.registers.push_back({thread.registers, thread_name(thread.tid)});
    const MemoryRegion* stack = thread.scan_from != 0 ? map.region_containing(thread.scan_from) : nullptr;
    if (stack == nullptr) continue;
    roots.ranges.push_back({reinterpret_cast<const void*>(thread.scan_from), stack->end - thread.scan_from, Kind::Stack, thread_name(thread.tid)});
    excluded.push_back({stack->start, stack->end});
  }

  // Exited threads' stacks, in glibc's cache: their descriptors only. Without every live thread's
  // thread pointer, a descriptor may be a live thread's, and its whole stack is kept as anonymous memory.
  const DescriptorSignature signature = own_descriptor_signature();
  for (const MemoryRegion& region : map.regions()) {
    if (!is_anonymous_candidate(region)) continue;
    if (region.name == "[stack]" && all_threads_known) {  // the main thread's, and it is not live
      bool live = false;
      for (const LiveThread& thread : threads) live |= thread.scan_from >= region.start && thread.scan_from < region.end;
      if (!live) excluded.push_back({region.start, region.end});
      continue;
    }
    if (!all_threads_known) continue;
    const std::optional<std::uintptr_t> descriptor = thread_descriptor_in(region, signature);
    if (!descriptor || std::find(live_thread_pointers.begin(), live_thread_pointers.end(), *descriptor) != live_thread_pointers.end()) continue;
    const std::uintptr_t end = std::min(region.end, *descriptor + kDescriptorBytes);
    roots.ranges.push_back({reinterpret_cast<const void*>(*descriptor), end - *descriptor, Kind::ThreadLocal, "exited thread (glibc stack cache)"});
    excluded.push_back({region.start, region.end});
    ++roots.exited_thread_descriptors;
  }

  // Everything else that is anonymous: pools, arenas, JIT heaps, the main thread's descriptor. Left
  // out whole when some of heapsnap's bookkeeping could not be told apart from it: a false leak is a
  // loud error, a leak hidden by heapsnap's own pointers a silent one.
  if (internal_known) {
    const std::vector<Span> skip = normalized(std::move(excluded));
    for (const MemoryRegion& region : map.regions()) {
      if (!is_anonymous_candidate(region)) continue;
      const std::string where = region.name.empty() ? "anonymous " + hex_range(region.start, region.end) : region.name;
      for_each_uncovered(Span{region.start, region.end}, skip, [&](Span piece) {
        for_each_resident_run(piece, read_everything, [&](Span run) {
          roots.ranges.push_back({reinterpret_cast<const void*>(run.start), run.end - run.start, Kind::Mapping, where});
          roots.anonymous_bytes += run.end - run.start;
        });
      });
    }
  }

  // Module globals, resident pages only: a library's .bss is mostly never touched, and a page never
  // written holds what the file had, which no heap address can be. Heapsnap's own tables among them
  // (the preload library's globals) are left out.
  for (const RootRange& range : module_globals) {
    const auto start = reinterpret_cast<std::uintptr_t>(range.begin);
    for_each_uncovered(Span{start, start + range.bytes}, internal, [&](Span piece) {
      for_each_resident_run(piece, read_everything, [&](Span run) {
        roots.ranges.push_back({reinterpret_cast<const void*>(run.start), run.end - run.start, range.kind, range.where});
      });
    });
  }
  return roots;
}

}  // namespace heapsnap::collector
