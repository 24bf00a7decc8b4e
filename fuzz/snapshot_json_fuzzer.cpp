// The snapshot reader on JSON text (parse_snapshot_json): a SnapshotError or a snapshot that passes
// check_accepted_snapshot.

#include "fuzz/fuzz_target.h"
#include "fuzz/snapshot_checks.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap::fuzz {

Outcome fuzz_one(std::string_view input) {
  Snapshot snapshot;
  try {
    snapshot = parse_snapshot_json(input, "fuzz.json");
  } catch (const SnapshotError&) {
    return Outcome::Rejected;
  }
  check_accepted_snapshot(snapshot);
  return Outcome::Accepted;
}

}  // namespace heapsnap::fuzz
