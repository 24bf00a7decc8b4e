#pragma once
// The threads of this process, as /proc/self/task lists them: who a stop of the world must stop.

#include <sys/types.h>

#include <set>

namespace heapsnap::collector {

// Every thread of the process but `caller` and `also_running` (heapsnap's service thread, 0 if none).
std::set<pid_t> list_other_threads(pid_t caller, pid_t also_running);

}  // namespace heapsnap::collector
