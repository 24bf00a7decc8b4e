#include "test/support/process_runner.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "test/support/temp_directory.h"

#ifndef HEAPSNAP_CLI_PATH
#error "HEAPSNAP_CLI_PATH must name the heapsnap binary (test/support/CMakeLists.txt)"
#endif

namespace heapsnap::test {

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  // Output goes to files, not pipes: nothing to drain while waiting, whatever the amount.
  TempDirectory capture;
  const std::string out_path = (capture / "stdout").string();
  const std::string err_path = (capture / "stderr").string();
  std::vector<char*> args;
  std::vector<std::string> copies = argv;
  for (std::string& arg : copies) args.push_back(arg.data());
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || null_in < 0) ::_exit(250);
    ::dup2(null_in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!options.working_directory.empty() && ::chdir(options.working_directory.c_str()) != 0) ::_exit(251);
    for (const auto& [name, value] : options.environment) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
    ::execv(args[0], args.data());
    ::_exit(252);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  ProcessResult result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal_number = WTERMSIG(status);
  result.out = read_text_file(out_path);
  result.err = read_text_file(err_path);
  return result;
}

std::filesystem::path heapsnap_binary() { return HEAPSNAP_CLI_PATH; }

ProcessResult run_heapsnap(const std::vector<std::string>& arguments, const ProcessOptions& options) {
  std::vector<std::string> argv{heapsnap_binary().string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return run_process(argv, options);
}

}  // namespace heapsnap::test
