#pragma once
// A heapsnap subcommand: configure() declares its options on the subcommand's CLI::App, run() does
// the work once they are parsed and returns the exit status. main.cpp owns the dispatch.

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace heapsnap::cli {

// A mistake in the command line found after parsing (conflicting flags, missing program, refusing to
// overwrite): reported as "heapsnap: error: <message>", exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Command {
 public:
  virtual ~Command() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view summary() const = 0;
  virtual void configure(CLI::App& app) = 0;
  virtual int run() = 0;

  // A command that runs a program gets everything after the first "--" verbatim, so that the
  // program's own arguments are never taken for heapsnap options.
  virtual bool takes_program_arguments() const { return false; }
  virtual void set_program_arguments(std::vector<std::string> /*arguments*/) {}
};

std::unique_ptr<Command> make_stats_command();
std::unique_ptr<Command> make_diff_command();
std::unique_ptr<Command> make_check_command();
std::unique_ptr<Command> make_cycles_command();
std::unique_ptr<Command> make_report_command();
std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_export_command();
std::unique_ptr<Command> make_trend_command();
std::unique_ptr<Command> make_symbolize_command();
std::unique_ptr<Command> make_ctl_command();
std::unique_ptr<Command> make_top_command();

}  // namespace heapsnap::cli
