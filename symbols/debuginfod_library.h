#pragma once
// libdebuginfod, loaded the first time a debug file is fetched. Linking it would load libcurl, GnuTLS,
// Kerberos and LDAP (30 libraries, about 12 ms) into every start of the command line, `heapsnap run`
// around each test of a suite included, to serve the rare run that fetches from a server.

#include <elfutils/debuginfod.h>

#include <string>

namespace heapsnap {

struct DebuginfodLibrary {
  decltype(&debuginfod_begin) begin = nullptr;
  decltype(&debuginfod_end) end = nullptr;
  decltype(&debuginfod_set_user_data) set_user_data = nullptr;
  decltype(&debuginfod_get_user_data) get_user_data = nullptr;
  decltype(&debuginfod_set_progressfn) set_progressfn = nullptr;
  decltype(&debuginfod_find_debuginfo) find_debuginfo = nullptr;
  std::string problem;  // why it could not be loaded; empty when every function is there
};

// The library's functions, loaded once (thread-safe). The library stays loaded for the process.
const DebuginfodLibrary& debuginfod_library();

}  // namespace heapsnap
