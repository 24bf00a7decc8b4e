#pragma once
// Runs a program (the built heapsnap binary) the way a user would, capturing what it prints.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace heapsnap::test {

struct ProcessResult {
  int exit_code = -1;     // exit status, or -1 when killed by a signal
  int signal_number = 0;  // the signal that killed it, or 0
  std::string out;        // standard output
  std::string err;        // standard error
};

struct ProcessOptions {
  std::filesystem::path working_directory;                  // empty: the test's own
  std::map<std::string, std::optional<std::string>> environment;  // set (value) or unset (nullopt)
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// The heapsnap binary under test, and a shortcut to run it with arguments.
std::filesystem::path heapsnap_binary();
ProcessResult run_heapsnap(const std::vector<std::string>& arguments, const ProcessOptions& options = {});

}  // namespace heapsnap::test
