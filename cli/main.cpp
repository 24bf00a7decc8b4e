// heapsnap: memory allocation and leak profiler for native programs. Dispatches to one Command per
// subcommand and turns every error into a message and an exit status (docs/exit-codes.md).

#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/exit_codes.h"
#include "snapshot/snapshot_json.h"

namespace {

using heapsnap::cli::Command;

int report_error(const std::string& message) {
  std::cerr << "heapsnap: error: " << message << "\n";
  return heapsnap::cli::kExitUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(heapsnap::cli::make_stats_command());
  commands.push_back(heapsnap::cli::make_diff_command());
  commands.push_back(heapsnap::cli::make_check_command());
  commands.push_back(heapsnap::cli::make_cycles_command());
  commands.push_back(heapsnap::cli::make_report_command());
  commands.push_back(heapsnap::cli::make_run_command());
  commands.push_back(heapsnap::cli::make_export_command());
  commands.push_back(heapsnap::cli::make_trend_command());
  commands.push_back(heapsnap::cli::make_symbolize_command());
  commands.push_back(heapsnap::cli::make_ctl_command());
  commands.push_back(heapsnap::cli::make_top_command());

  CLI::App app{"heapsnap: memory allocation and leak profiler for native C/C++ programs", "heapsnap"};
  app.set_version_flag("--version", "heapsnap " HEAPSNAP_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'heapsnap COMMAND --help' for a command's options.");
  std::vector<CLI::App*> subcommands;
  for (const auto& command : commands) {
    CLI::App* subcommand = app.add_subcommand(std::string(command->name()), std::string(command->summary()));
    command->configure(*subcommand);
    subcommands.push_back(subcommand);
  }

  // A command that runs a program gets everything after the first "--" untouched (see Command).
  int parsed_argc = argc;
  for (const auto& command : commands) {
    if (argc < 2 || !command->takes_program_arguments() || command->name() != argv[1]) continue;
    for (int i = 2; i < argc; ++i) {
      if (std::strcmp(argv[i], "--") == 0) {
        command->set_program_arguments(std::vector<std::string>(argv + i + 1, argv + argc));
        parsed_argc = i;
        break;
      }
    }
  }

  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);  // --help, --version
    std::cerr << "heapsnap: error: " << error.what() << "\n"
              << "Run 'heapsnap --help' or 'heapsnap COMMAND --help' for usage.\n";
    return heapsnap::cli::kExitUsageError;
  }

  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (!subcommands[i]->parsed()) continue;
    try {
      return commands[i]->run();
    } catch (const heapsnap::SnapshotError& error) {
      return report_error(error.what());
    } catch (const heapsnap::cli::UsageError& error) {
      return report_error(error.what());
    } catch (const std::exception& error) {
      return report_error(error.what());
    }
  }
  return report_error("no command given");  // not reached: require_subcommand(1)
}
