#pragma once
// What must hold for every snapshot a reader accepts, whatever its origin: the writers write it, the
// readers read the result back to the same document, and every command's analysis and report runs
// on it without error. Shared by the JSON and CBOR fuzz targets.

#include "snapshot/snapshot.h"

namespace heapsnap::fuzz {

void check_accepted_snapshot(const Snapshot& snapshot);

}  // namespace heapsnap::fuzz
