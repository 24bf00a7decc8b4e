// The default unwinder (runtime/stack_capture.h, Cached) against libgcc's DWARF unwinder: the same
// stacks, frame for frame, through optimized frames, debug frames (frame pointers) and mixes of both;
// no DWARF unwind once the rules are learnt; code without call-frame information (a JIT's) followed
// through its frame pointer; and the call-frame interpreter (runtime/cfi_rule.h) on known and on
// corrupt input.

#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "runtime/cfi_rule.h"
#include "runtime/stack_capture.h"
#include "runtime/unwind_cache.h"
#include "test/runtime/unwinder_frames.h"

using heapsnap::CapturedStack;
using heapsnap::FrameRule;
using heapsnap::FrameRuleKind;
using heapsnap::UnwindMethod;

namespace unwinder_frames {

void optimized_frame(int depth, Capture capture, void* out) {
  volatile char padding[200] = {};
  padding[0] = static_cast<char>(depth);
  if (depth <= 0) capture(out);
  else if (depth % 3 == 0) optimized_frame(depth - 1, capture, out);
  else debug_frame(depth - 1, capture, out);
  asm volatile("" ::"r"(padding) : "memory");
}

}  // namespace unwinder_frames

namespace {

std::uint32_t g_limit = 128;

[[gnu::noinline]] void capture_into(void* out) {
  heapsnap::capture_stack(*static_cast<CapturedStack*>(out), g_limit, 0);
  asm volatile("" ::: "memory");  // not a tail call: this frame stays on the stack
}

bool same_frames(const CapturedStack& a, const CapturedStack& b) {
  if (a.depth != b.depth || a.total != b.total) return false;
  for (std::uint32_t i = 0; i < a.depth; ++i)
    if (a.frames[i] != b.frames[i]) return false;
  return true;
}

// Every capture starts through this one call site, so the outer frames are the same return addresses.
[[gnu::noinline]] CapturedStack capture_with(UnwindMethod method, bool start_in_debug_frame, int depth) {
  heapsnap::set_unwind_method(method);
  CapturedStack stack;
  if (start_in_debug_frame) unwinder_frames::debug_frame(depth, capture_into, &stack);
  else unwinder_frames::optimized_frame(depth, capture_into, &stack);
  asm volatile("" ::: "memory");
  return stack;
}

struct RestoreMethod {
  UnwindMethod saved = heapsnap::unwind_method();
  ~RestoreMethod() { heapsnap::set_unwind_method(saved); }
};

}  // namespace

TEST_CASE("debug, optimized and mixed frames: the cached unwinder gives DWARF's stacks, then needs no DWARF") {
  RestoreMethod restore;
  for (const bool debug_first : {true, false}) {
    for (int depth = 0; depth < 40; depth += 3) {
      for (const std::uint32_t limit : {1u, 16u, 128u}) {
        g_limit = limit;
        INFO("starting in a " << (debug_first ? "debug" : "optimized") << " frame, depth " << depth << ", limit " << limit);
        // One call site for the three captures: DWARF, cached (learning), cached (learnt).
        std::vector<CapturedStack> stacks;
        std::uint64_t dwarf_before_last = 0;
        for (UnwindMethod method : {UnwindMethod::Dwarf, UnwindMethod::Cached, UnwindMethod::Cached}) {
          dwarf_before_last = heapsnap::dwarf_unwind_count();
          stacks.push_back(capture_with(method, debug_first, depth));
        }
        CHECK(heapsnap::dwarf_unwind_count() == dwarf_before_last);  // steady state: no DWARF search at all
        CHECK(stacks[0].total >= static_cast<std::uint32_t>(depth));
        CHECK(same_frames(stacks[0], stacks[1]));
        CHECK(same_frames(stacks[0], stacks[2]));
      }
    }
  }
  // A thread's stack ends in clone, not _start: that end is learnt too.
  g_limit = 64;
  std::vector<CapturedStack> stacks;
  std::thread([&] {
    // The loop's bound is opaque: unrolled (clang does), it would be three call sites, three stacks.
    constexpr UnwindMethod kMethods[] = {UnwindMethod::Dwarf, UnwindMethod::Cached, UnwindMethod::Cached};
    volatile int count = 3;
    for (int i = 0; i < count; ++i) stacks.push_back(capture_with(kMethods[i], true, 7));
  }).join();
  CHECK(same_frames(stacks[0], stacks[1]));
  CHECK(same_frames(stacks[0], stacks[2]));
}

namespace {

// A JIT's code: copied into an anonymous executable mapping, with no call-frame information, keeping
// a frame pointer. void jit_call(void (*target)(void*), void* argument):
//   push rbp; mov rbp, rsp; mov rax, rdi; mov rdi, rsi; call rax; pop rbp; ret
constexpr std::uint8_t kJitCode[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0xff, 0xd0, 0x5d, 0xc3};

struct JitCapture {
  CapturedStack through_jit;
  CapturedStack reference;  // captured by the same caller, directly
};

[[gnu::noinline]] void call_through_jit(void (*jit)(void (*)(void*), void*), JitCapture& result) {
  jit(capture_into, &result.through_jit);
  capture_into(&result.reference);
  asm volatile("" ::: "memory");
}

}  // namespace

TEST_CASE("a frame in code without call-frame information (a JIT's) is stepped through by its frame pointer") {
#if defined(__x86_64__)
  RestoreMethod restore;
  heapsnap::set_unwind_method(UnwindMethod::Cached);
  g_limit = 128;
  void* code = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(code != MAP_FAILED);
  std::memcpy(code, kJitCode, sizeof kJitCode);
  REQUIRE(mprotect(code, 4096, PROT_READ | PROT_EXEC) == 0);
  const auto jit_start = reinterpret_cast<std::uintptr_t>(code);

  for (int round = 0; round < 3; ++round) {  // learning, then learnt
    JitCapture result;
    call_through_jit(reinterpret_cast<void (*)(void (*)(void*), void*)>(code), result);
    const CapturedStack& stack = result.through_jit;
    INFO("round " << round);
    // frames: capture_into, [the JIT code], call_through_jit, and call_through_jit's callers.
    REQUIRE(stack.depth >= 3);
    CHECK(stack.frames[1] == jit_start + 12);  // the return address after `call rax`
    // Below the JIT frame the stack goes on exactly as call_through_jit's own, from its caller up.
    REQUIRE(result.reference.depth >= 2);
    REQUIRE(stack.depth == result.reference.depth + 1);
    CHECK(std::memcmp(&stack.frames[3], &result.reference.frames[2], (result.reference.depth - 2) * sizeof(std::uintptr_t)) == 0);
  }
  munmap(code, 4096);
#endif
}

// --- the call-frame interpreter ----------------------------------------------------------------

namespace {

// A CIE as GCC writes it for x86-64 ("zR", code alignment 1, data alignment -8, return address in
// column 16, FDE pointers pcrel|sdata4; CFA = rsp + 8, return address at CFA - 8), then one FDE
// with `fde_instructions`. The FDE starts right after the CIE.
std::vector<std::uint8_t> eh_frame_with(const std::vector<std::uint8_t>& fde_instructions) {
  std::vector<std::uint8_t> cie = {0, 0, 0, 0,  // CIE id
                                   1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b,
                                   0x0c, 7, 8,   // DW_CFA_def_cfa rsp+8
                                   0x90, 1};     // DW_CFA_offset rip, 1 * -8
  while (cie.size() % 4 != 0) cie.push_back(0);
  std::vector<std::uint8_t> bytes;
  auto put32 = [&](std::uint32_t v) { for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i))); };
  put32(static_cast<std::uint32_t>(cie.size()));
  bytes.insert(bytes.end(), cie.begin(), cie.end());
  std::vector<std::uint8_t> fde_body = {0, 0, 0, 0, 0x40, 0, 0, 0, 0};  // pc_begin, pc_range 64, no augmentation data
  fde_body.insert(fde_body.end(), fde_instructions.begin(), fde_instructions.end());
  while ((fde_body.size() + 8) % 4 != 0) fde_body.push_back(0);  // DW_CFA_nop
  put32(static_cast<std::uint32_t>(fde_body.size() + 4));
  put32(static_cast<std::uint32_t>(bytes.size()));  // CIE pointer: from this field back to offset 0
  bytes.insert(bytes.end(), fde_body.begin(), fde_body.end());
  return bytes;
}

FrameRule rule_at(const std::vector<std::uint8_t>& eh_frame, std::uintptr_t offset_in_function) {
  constexpr std::uintptr_t kFunction = 0x401000;
  const std::size_t fde_at = 4 + (eh_frame[0] | eh_frame[1] << 8);
  // The return address is one past the call instruction's last byte: offset + 1.
  return heapsnap::frame_rule_from_fde(eh_frame.data() + fde_at, kFunction, kFunction + offset_in_function + 1);
}

}  // namespace

TEST_CASE("the call-frame interpreter reads a frame-pointer prologue row by row") {
  // push rbp (1 byte); mov rbp, rsp (3 bytes); then the body, CFA from rbp.
  const auto eh_frame = eh_frame_with({0x41, 0x0e, 16, 0x86, 2, 0x43, 0x0d, 6});
  const FrameRule entry = rule_at(eh_frame, 0);
  CHECK((entry.kind == FrameRuleKind::StackPointer && entry.cfa_offset == 8 && entry.saved_frame_pointer == 0));
  const FrameRule pushed = rule_at(eh_frame, 2);
  CHECK((pushed.kind == FrameRuleKind::StackPointer && pushed.cfa_offset == 16 && pushed.saved_frame_pointer == -16));
  const FrameRule body = rule_at(eh_frame, 30);
  CHECK((body.kind == FrameRuleKind::FramePointer && body.cfa_offset == 16 && body.saved_frame_pointer == -16));
}

TEST_CASE("the call-frame interpreter: remember/restore state, the outermost frame, what it cannot express") {
  // sub rsp at 4: CFA rsp+48; remember; at 10 an epilogue (CFA rsp+8); restore at 12.
  const auto states = eh_frame_with({0x44, 0x0e, 48, 0x0a, 0x46, 0x0e, 8, 0x42, 0x0b});
  CHECK(rule_at(states, 5).cfa_offset == 48);
  CHECK(rule_at(states, 10).cfa_offset == 8);
  CHECK(rule_at(states, 13).cfa_offset == 48);

  CHECK(rule_at(eh_frame_with({0x07, 16}), 3).kind == FrameRuleKind::Outermost);  // DW_CFA_undefined rip
  // DW_CFA_def_cfa_expression (DW_OP_breg7 8; DW_OP_deref): not a rule the cache holds.
  CHECK(rule_at(eh_frame_with({0x0f, 3, 0x77, 8, 0x06}), 3).kind == FrameRuleKind::NotCacheable);
  CHECK(rule_at(eh_frame_with({0x0c, 10, 0}), 3).kind == FrameRuleKind::NotCacheable);  // CFA from r10 (stack realignment)
}

TEST_CASE("the call-frame interpreter survives corrupt input") {
  // Truncated operands, unknown opcodes, a restore_state with nothing remembered, endless LEB128s.
  for (const std::vector<std::uint8_t>& instructions : std::vector<std::vector<std::uint8_t>>{
           {0x0e}, {0x0c, 7}, {0x3f}, {0x0b}, {0x0e, 0x80, 0x80, 0x80}, {0x04, 1}, {0x0f, 100, 1}}) {
    const auto eh_frame = eh_frame_with(instructions);
    const FrameRule rule = rule_at(eh_frame, 40);
    CHECK(rule.kind == FrameRuleKind::NotCacheable);
  }
  // A length that runs past the end of the record set, and an FDE whose CIE pointer is zero.
  std::vector<std::uint8_t> bad = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
  CHECK(heapsnap::frame_rule_from_fde(bad.data(), 0x1000, 0x1010).kind == FrameRuleKind::NotCacheable);
  std::vector<std::uint8_t> cie_not_fde = {8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(heapsnap::frame_rule_from_fde(cie_not_fde.data(), 0x1000, 0x1010).kind == FrameRuleKind::NotCacheable);
}

TEST_CASE("the unwind-rule cache grows from a small table and keeps what it learnt") {
  // Addresses no code has: far above user space's code, 16 bytes apart as return addresses can be.
  constexpr std::uintptr_t kBase = 0x7ff0'0000'0000;
  constexpr std::size_t kCount = 40'000;  // past two growths: 1 Ki, 8 Ki and 64 Ki slots
  const std::size_t before = heapsnap::unwind_rules_learnt();
  for (std::size_t i = 0; i < kCount; ++i)
    heapsnap::remember_unwind_rule(kBase + 16 * i, FrameRule{static_cast<std::int32_t>(8 + i % 1000), -16, FrameRuleKind::FramePointer, 0});
  CHECK(heapsnap::unwind_rules_learnt() >= before + kCount);
  std::size_t found = 0;
  for (std::size_t i = 0; i < kCount; ++i) {
    const FrameRule rule = heapsnap::unwind_rule_for(kBase + 16 * i);
    found += rule.kind == FrameRuleKind::FramePointer && rule.cfa_offset == static_cast<std::int32_t>(8 + i % 1000) &&
             rule.saved_frame_pointer == -16;
  }
  CHECK(found == kCount);
  CHECK(heapsnap::unwind_rule_for(kBase + 16 * kCount).kind == FrameRuleKind::Unknown);
}
