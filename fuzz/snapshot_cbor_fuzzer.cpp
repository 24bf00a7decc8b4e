// The snapshot reader on CBOR (parse_snapshot after the self-describe tag, which is prepended so that
// no input is spent on it): a SnapshotError or a snapshot that passes check_accepted_snapshot.

#include <string>

#include "fuzz/fuzz_target.h"
#include "fuzz/snapshot_checks.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap::fuzz {

Outcome fuzz_one(std::string_view input) {
  const std::string bytes = std::string(kCborMagic) + std::string(input);
  Snapshot snapshot;
  try {
    snapshot = parse_snapshot(bytes, "fuzz.cbor");
  } catch (const SnapshotError&) {
    return Outcome::Rejected;
  }
  check_accepted_snapshot(snapshot);
  return Outcome::Accepted;
}

}  // namespace heapsnap::fuzz
