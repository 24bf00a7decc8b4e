#pragma once
// The snapshot file: versioned JSON, a lossless image of heapsnap::Snapshot (docs/snapshot-format.md).
// Frames are stored once and referenced by index from tracebacks; traces reference tracebacks by index.
//
// save_snapshot/write_snapshot_json also run inside the profiled process at exit (the preload library
// calls them): they start no thread, keep no static state, and report every failure by exception.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>

#include "snapshot/snapshot.h"

namespace heapsnap {

inline constexpr std::string_view kSnapshotFormat = "heapsnap-snapshot";
inline constexpr int kSnapshotVersion = 1;


// A snapshot that cannot be read or written. what() is "<file>: <position>: <reason>", or
// "<file>: <reason>" when there is no position (missing file, I/O error).
class SnapshotError : public std::runtime_error {
 public:
  SnapshotError(std::string file, std::string position, std::string reason);

  const std::string& file() const noexcept { return file_; }
  // "line 3, column 7 (byte 41)" for malformed JSON, a JSON pointer such as "/traces/3/size" for
  // content that breaks the schema, "(root)" for the document itself, or empty.
  const std::string& position() const noexcept { return position_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string file_;
  std::string position_;
  std::string reason_;
};

// Writes `snapshot` as JSON. Throws SnapshotError (file "<output stream>") when a trace or a cycle
// member refers to a traceback the snapshot does not have, a cycle edge to a member its cycle does not
// have, a cycle's bytes are not its members' sizes summed, or when the stream fails; nothing is written
// then.
// Strings that are not valid UTF-8 are written with U+FFFD in place of the invalid bytes.
void write_snapshot_json(const Snapshot& snapshot, std::ostream& out);

// Reads a snapshot written by write_snapshot_json; `source_name` names the input in errors.
// Throws SnapshotError for anything that is not a valid version-1 snapshot.
Snapshot read_snapshot_json(std::istream& in, const std::string& source_name);
Snapshot parse_snapshot_json(std::string_view text, const std::string& source_name);

// The binary encoding: the same document as CBOR (RFC 8949), behind CBOR's self-describe tag
// (0xd9d9f7), which is also how readers tell it from JSON. About 40% smaller and several times
// faster to read than the JSON; `heapsnap run --snapshot-format cbor` writes it.
enum class SnapshotEncoding { Json, Cbor };
inline constexpr std::string_view kCborMagic = "\xd9\xd9\xf7";

// Writes `snapshot` as CBOR; the same checks and errors as write_snapshot_json.
void write_snapshot_cbor(const Snapshot& snapshot, std::ostream& out);

// Reads a snapshot in either encoding (CBOR when `bytes` start with kCborMagic, else JSON). Errors
// in CBOR name the byte offset: "byte 1234".
Snapshot parse_snapshot(std::string_view bytes, const std::string& source_name);

// Writes `snapshot` to `path` atomically (see write_file_atomically), replacing an existing file;
// without fsync (Durability::Atomic): the preload library writes one per process exit, where two
// fsyncs cost a few milliseconds, sometimes over 100, and a machine crash loses the run anyway.
// Throws SnapshotError naming `path`.
void save_snapshot(const Snapshot& snapshot, const std::filesystem::path& path,
                   SnapshotEncoding encoding = SnapshotEncoding::Json);

// Reads the snapshot file at `path`, in either encoding. Throws SnapshotError naming `path` when it is
// missing, is not a regular file, cannot be read, or is not a valid snapshot.
Snapshot load_snapshot(const std::filesystem::path& path);

}  // namespace heapsnap
