#include "runtime/cfi_rule.h"

#include <cstring>

namespace heapsnap {
namespace {

// libgcc's FDE search (unwind-dw2-fde.h, exported since GCC 3.0; LLVM's libunwind has it too).
struct DwarfEhBases {
  void* text_base;
  void* data_base;
  void* function;  // the FDE's first address
};
extern "C" const void* _Unwind_Find_FDE(void* pc, DwarfEhBases* bases);

constexpr unsigned kRsp = 7;
constexpr unsigned kRbp = 6;
constexpr unsigned kReturnAddress = 16;  // rip, the return-address column on x86-64
constexpr int kMaxRememberedStates = 8;
constexpr int kMaxInstructions = 100000;  // a bound on corrupt or hostile input

// A bounds-checked cursor over call-frame information. Any read past the end sets `failed`.
struct Cursor {
  const std::uint8_t* at;
  const std::uint8_t* end;
  bool failed = false;

  bool done() const { return failed || at >= end; }
  std::uint8_t byte() {
    if (at >= end) return fail();
    return *at++;
  }
  template <typename T>
  T fixed() {
    if (end - at < static_cast<std::ptrdiff_t>(sizeof(T))) return fail();
    T value;
    std::memcpy(&value, at, sizeof value);
    at += sizeof value;
    return value;
  }
  std::uint64_t uleb() {
    std::uint64_t value = 0;
    for (unsigned shift = 0;; shift += 7) {
      const std::uint8_t b = byte();
      if (failed) return 0;
      if (shift < 64) value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
  }
  std::int64_t sleb() {
    std::int64_t value = 0;
    unsigned shift = 0;
    std::uint8_t b = 0;
    do {
      b = byte();
      if (failed) return 0;
      if (shift < 64) value |= static_cast<std::int64_t>(static_cast<std::uint64_t>(b & 0x7f) << shift);
      shift += 7;
    } while ((b & 0x80) != 0);
    if (shift < 64 && (b & 0x40) != 0) value |= -(std::int64_t{1} << shift);
    return value;
  }
  void skip(std::uint64_t bytes) {
    if (static_cast<std::uint64_t>(end - at) < bytes) {
      fail();
      return;
    }
    at += bytes;
  }
  // A pointer in DW_EH_PE_* `encoding`: only its size matters here, its value is never needed.
  void skip_encoded(std::uint8_t encoding) {
    if (encoding == 0xff) return;  // DW_EH_PE_omit
    switch (encoding & 0x0f) {
      case 0x00: skip(8); return;  // absptr
      case 0x01: uleb(); return;
      case 0x09: sleb(); return;
      case 0x02: case 0x0a: skip(2); return;
      case 0x03: case 0x0b: skip(4); return;
      case 0x04: case 0x0c: skip(8); return;
      default: fail(); return;
    }
  }
  std::uint8_t fail() {
    failed = true;
    at = end;
    return 0;
  }
};

// One length-prefixed record (CIE or FDE) of .eh_frame: returns the cursor over its contents.
bool open_record(const std::uint8_t* record, Cursor& contents) {
  Cursor header{record, record + 12};
  std::uint64_t length = header.fixed<std::uint32_t>();
  if (length == 0xffffffff) length = header.fixed<std::uint64_t>();
  if (header.failed || length == 0 || length > (1u << 24)) return false;
  contents = {header.at, header.at + length};
  return true;
}

struct Cie {
  std::uint64_t code_alignment = 1;
  std::int64_t data_alignment = -8;
  std::uint8_t fde_encoding = 0;  // DW_EH_PE_absptr unless 'R' says otherwise
  bool has_augmentation_data = false;
  bool signal_frame = false;
  Cursor initial_instructions{nullptr, nullptr};
};

bool parse_cie(const std::uint8_t* record, Cie& cie) {
  Cursor c{nullptr, nullptr};
  if (!open_record(record, c)) return false;
  if (c.fixed<std::uint32_t>() != 0) return false;  // CIE id
  const std::uint8_t version = c.byte();
  if (version != 1 && version != 3) return false;
  const auto* augmentation = reinterpret_cast<const char*>(c.at);
  const std::size_t augmentation_length = strnlen(augmentation, static_cast<std::size_t>(c.end - c.at));
  c.skip(augmentation_length + 1);
  if (std::strncmp(augmentation, "eh", 2) == 0) c.skip(8);
  cie.code_alignment = c.uleb();
  cie.data_alignment = c.sleb();
  const std::uint64_t return_register = version == 1 ? c.byte() : c.uleb();
  if (c.failed || return_register != kReturnAddress) return false;
  if (augmentation[0] == 'z') {
    cie.has_augmentation_data = true;
    const std::uint64_t data_length = c.uleb();
    Cursor data{c.at, c.at + data_length};
    c.skip(data_length);
    for (std::size_t i = 1; i < augmentation_length; ++i) {
      switch (augmentation[i]) {
        case 'R': cie.fde_encoding = data.byte(); break;
        case 'L': data.byte(); break;
        case 'P': data.skip_encoded(data.byte()); break;
        case 'S': cie.signal_frame = true; break;
        case 'B': case 'G': break;  // AArch64 and MTE markers: no data
        default: return false;      // unknown augmentation: its data layout is unknown
      }
    }
    if (data.failed) return false;
  } else if (augmentation[0] != '\0') {
    return false;
  }
  if (c.failed) return false;
  cie.initial_instructions = c;
  return true;
}

// The part of the unwind table row that a FrameRule keeps.
struct Row {
  unsigned cfa_register = kRsp;
  std::int64_t cfa_offset = 8;
  bool frame_pointer_saved = false;      // the caller's rbp is at CFA + frame_pointer_offset
  std::int64_t frame_pointer_offset = 0;
  bool return_address_undefined = false;  // the outermost frame
  bool inexpressible = false;             // an expression, or a register rule we do not follow
};

enum class Stop { AtTarget, EndOfInstructions, Invalid };

// Runs call-frame instructions, advancing `location` from the function's start, until the row that
// covers `target` is complete. `initial` is the row after the CIE's instructions (for DW_CFA_restore).
Stop run(Cursor c, const Cie& cie, std::uintptr_t& location, std::uintptr_t target, Row& row, const Row& initial) {
  Row remembered[kMaxRememberedStates];
  int depth = 0;
  const auto advance = [&](std::uint64_t delta) { location += delta * cie.code_alignment; return location > target; };
  const auto restore = [&](std::uint64_t reg) {
    if (reg == kRbp) {
      row.frame_pointer_saved = initial.frame_pointer_saved;
      row.frame_pointer_offset = initial.frame_pointer_offset;
    }
  };
  const auto saved_at = [&](std::uint64_t reg, std::int64_t offset) {
    if (reg == kRbp) {
      row.frame_pointer_saved = true;
      row.frame_pointer_offset = offset;
    } else if (reg == kReturnAddress && offset != -8) {
      row.inexpressible = true;  // the return address is always read from CFA - 8
    }
  };
  const auto unsaved = [&](std::uint64_t reg, bool undefined) {  // same value, or undefined
    if (reg == kRbp) row.frame_pointer_saved = false;
    if (reg == kReturnAddress) row.return_address_undefined = undefined;
  };
  for (int count = 0; !c.done(); ++count) {
    if (count > kMaxInstructions) return Stop::Invalid;
    const std::uint8_t op = c.byte();
    const std::uint8_t low = op & 0x3f;
    switch (op >> 6) {
      case 1:  // DW_CFA_advance_loc
        if (advance(low)) return Stop::AtTarget;
        continue;
      case 2:  // DW_CFA_offset
        saved_at(low, static_cast<std::int64_t>(c.uleb()) * cie.data_alignment);
        continue;
      case 3:  // DW_CFA_restore
        restore(low);
        continue;
      default: break;
    }
    switch (op) {
      case 0x00: break;  // DW_CFA_nop
      case 0x01: return Stop::Invalid;  // DW_CFA_set_loc: absolute addresses; not emitted on x86-64
      case 0x02: if (advance(c.byte())) return Stop::AtTarget; break;
      case 0x03: if (advance(c.fixed<std::uint16_t>())) return Stop::AtTarget; break;
      case 0x04: if (advance(c.fixed<std::uint32_t>())) return Stop::AtTarget; break;
      case 0x05: {  // DW_CFA_offset_extended
        const std::uint64_t reg = c.uleb();
        saved_at(reg, static_cast<std::int64_t>(c.uleb()) * cie.data_alignment);
        break;
      }
      case 0x06: restore(c.uleb()); break;                  // DW_CFA_restore_extended
      case 0x07: unsaved(c.uleb(), true); break;            // DW_CFA_undefined
      case 0x08: unsaved(c.uleb(), false); break;           // DW_CFA_same_value
      case 0x09: {                                          // DW_CFA_register
        const std::uint64_t reg = c.uleb();
        c.uleb();
        if (reg == kRbp || reg == kReturnAddress) row.inexpressible = true;
        break;
      }
      case 0x0a:  // DW_CFA_remember_state
        if (depth == kMaxRememberedStates) return Stop::Invalid;
        remembered[depth++] = row;
        break;
      case 0x0b:  // DW_CFA_restore_state
        if (depth == 0) return Stop::Invalid;
        row = remembered[--depth];
        break;
      case 0x0c:  // DW_CFA_def_cfa
        row.cfa_register = static_cast<unsigned>(c.uleb());
        row.cfa_offset = static_cast<std::int64_t>(c.uleb());
        break;
      case 0x0d: row.cfa_register = static_cast<unsigned>(c.uleb()); break;    // DW_CFA_def_cfa_register
      case 0x0e: row.cfa_offset = static_cast<std::int64_t>(c.uleb()); break;  // DW_CFA_def_cfa_offset
      case 0x0f:  // DW_CFA_def_cfa_expression
        row.inexpressible = true;
        c.skip(c.uleb());
        break;
      case 0x10:    // DW_CFA_expression
      case 0x16: {  // DW_CFA_val_expression
        const std::uint64_t reg = c.uleb();
        c.skip(c.uleb());
        if (reg == kRbp || reg == kReturnAddress) row.inexpressible = true;
        break;
      }
      case 0x11: {  // DW_CFA_offset_extended_sf
        const std::uint64_t reg = c.uleb();
        saved_at(reg, c.sleb() * cie.data_alignment);
        break;
      }
      case 0x12:  // DW_CFA_def_cfa_sf
        row.cfa_register = static_cast<unsigned>(c.uleb());
        row.cfa_offset = c.sleb() * cie.data_alignment;
        break;
      case 0x13: row.cfa_offset = c.sleb() * cie.data_alignment; break;  // DW_CFA_def_cfa_offset_sf
      case 0x14:    // DW_CFA_val_offset
      case 0x15: {  // DW_CFA_val_offset_sf
        const std::uint64_t reg = c.uleb();
        if (op == 0x14) c.uleb(); else c.sleb();
        if (reg == kRbp || reg == kReturnAddress) row.inexpressible = true;
        break;
      }
      case 0x2e: c.uleb(); break;  // DW_CFA_GNU_args_size
      case 0x2f: {                 // DW_CFA_GNU_negative_offset_extended
        const std::uint64_t reg = c.uleb();
        saved_at(reg, -static_cast<std::int64_t>(c.uleb()) * cie.data_alignment);
        break;
      }
      default: return Stop::Invalid;
    }
  }
  return c.failed ? Stop::Invalid : Stop::EndOfInstructions;
}

FrameRule to_frame_rule(const Row& row) {
  if (row.return_address_undefined) return FrameRule::of(FrameRuleKind::Outermost);
  if (row.inexpressible || (row.cfa_register != kRsp && row.cfa_register != kRbp)) return FrameRule::of(FrameRuleKind::NotCacheable);
  if (row.cfa_offset <= 0 || row.cfa_offset > (1 << 20) || row.cfa_offset % 8 != 0) return FrameRule::of(FrameRuleKind::NotCacheable);
  FrameRule rule = FrameRule::of(row.cfa_register == kRsp ? FrameRuleKind::StackPointer : FrameRuleKind::FramePointer);
  rule.cfa_offset = static_cast<std::int32_t>(row.cfa_offset);
  if (row.frame_pointer_saved) {
    // Saved within the frame, below the CFA, at a distance the rule can hold.
    if (row.frame_pointer_offset >= 0 || row.frame_pointer_offset < -32768 || row.frame_pointer_offset % 8 != 0)
      return FrameRule::of(FrameRuleKind::NotCacheable);
    rule.saved_frame_pointer = static_cast<std::int16_t>(row.frame_pointer_offset);
  }
  return rule;
}

}  // namespace

FrameRule frame_rule_from_fde(const std::uint8_t* fde, std::uintptr_t function_start, std::uintptr_t return_address) noexcept {
  Cursor c{nullptr, nullptr};
  if (!open_record(fde, c)) return FrameRule::of(FrameRuleKind::NotCacheable);
  const std::uint8_t* cie_pointer_field = c.at;
  const std::uint32_t cie_pointer = c.fixed<std::uint32_t>();
  if (c.failed || cie_pointer == 0) return FrameRule::of(FrameRuleKind::NotCacheable);  // a CIE, not an FDE
  Cie cie;
  if (!parse_cie(cie_pointer_field - cie_pointer, cie) || cie.signal_frame) return FrameRule::of(FrameRuleKind::NotCacheable);
  c.skip_encoded(cie.fde_encoding);                  // pc_begin (given as function_start)
  c.skip_encoded(cie.fde_encoding & 0x0f);           // pc_range: same size, never pc-relative
  if (cie.has_augmentation_data) c.skip(c.uleb());  // the LSDA pointer
  if (c.failed) return FrameRule::of(FrameRuleKind::NotCacheable);

  // The call instruction ends at the return address: the row that covers its last byte applies.
  const std::uintptr_t target = return_address - 1;
  Row initial;
  std::uintptr_t location = function_start;
  if (run(cie.initial_instructions, cie, location, ~std::uintptr_t{0}, initial, initial) != Stop::EndOfInstructions)
    return FrameRule::of(FrameRuleKind::NotCacheable);
  Row row = initial;
  location = function_start;
  if (run(c, cie, location, target, row, initial) == Stop::Invalid) return FrameRule::of(FrameRuleKind::NotCacheable);
  return to_frame_rule(row);
}

FrameRule frame_rule_for_return_address(std::uintptr_t return_address) noexcept {
  DwarfEhBases bases{};
  const void* fde = _Unwind_Find_FDE(reinterpret_cast<void*>(return_address - 1), &bases);
  if (fde == nullptr) return FrameRule::of(FrameRuleKind::FramePointerChain);
  return frame_rule_from_fde(static_cast<const std::uint8_t*>(fde), reinterpret_cast<std::uintptr_t>(bases.function),
                             return_address);
}

}  // namespace heapsnap
