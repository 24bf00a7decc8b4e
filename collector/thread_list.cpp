#include "collector/thread_list.h"

#include <dirent.h>

#include <cstdlib>

namespace heapsnap::collector {

std::set<pid_t> list_other_threads(pid_t caller, pid_t also_running) {
  std::set<pid_t> tids;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
      if (tid > 0 && tid != caller && tid != also_running) tids.insert(tid);
    }
    closedir(dir);
  }
  return tids;
}

}  // namespace heapsnap::collector
