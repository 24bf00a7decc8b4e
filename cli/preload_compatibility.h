#pragma once
// Whether the dynamic loader will honour LD_PRELOAD for a program: it does not for a statically
// linked program (there is no loader) nor for a set-user-ID or set-group-ID one run by someone else
// (secure-execution mode drops LD_PRELOAD). `heapsnap run` refuses such programs with this reason
// instead of running them unprofiled and leaving no snapshot.

#include <optional>
#include <string>

namespace heapsnap::cli {

// `program` as given to `heapsnap run` (searched in PATH unless it contains a '/'). nullopt when
// preloading will work or when the program cannot be found or read (running it reports that).
std::optional<std::string> why_preload_cannot_work(const std::string& program);

}  // namespace heapsnap::cli
