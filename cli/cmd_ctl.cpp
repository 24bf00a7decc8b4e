// heapsnap ctl PID start [--depth N] | stop | snapshot [-o FILE] [--leaks] | status: controls a process
// that runs with heapsnap loaded (`heapsnap run --dormant`, or any `heapsnap run --control`) through
// its control socket (preload/control_server.h).

#include <sys/types.h>

#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/control_client.h"
#include "cli/exit_codes.h"

namespace heapsnap::cli {
namespace {

class CtlCommand final : public Command {
 public:
  std::string_view name() const override { return "ctl"; }
  std::string_view summary() const override {
    return "Control a running process's profiling: start, stop, snapshot, status (heapsnap run --dormant)";
  }

  void configure(CLI::App& app) override {
    app.add_option("PID", pid_, "The process, started by `heapsnap run --dormant` or `--control`")->required();
    app.require_subcommand(1);
    CLI::App* start = app.add_subcommand("start", "Start tracing allocations");
    start->add_option("--depth", depth_, "Frames recorded per allocation stack, 1-128 (default 16)")->check(CLI::Range(1, 128));
    app.add_subcommand("stop", "Stop tracing and forget every trace");
    CLI::App* snapshot = app.add_subcommand("snapshot", "Write a snapshot of the running process");
    snapshot->add_option("-o,--output", output_, "The snapshot file (default heapsnap.PID.ctl-<time>.json)")->option_text("FILE");
    snapshot->add_flag("--leaks", leaks_, "With a leak analysis (stops the program's threads briefly)");
    snapshot->add_flag("--force", force_, "Replace the file if it exists");
    app.add_subcommand("status", "Whether the process traces, and how much memory");
    app_ = &app;
  }

  int run() override {
    const std::string action = app_->get_subcommands().front()->get_name();
    try {
      if (action == "start") {
        ask(pid_, "start " + std::to_string(depth_), kTimeoutMs);
        std::cout << "heapsnap: process " << pid_ << " traces allocations (" << depth_ << " frames)\n";
      } else if (action == "stop") {
        ask(pid_, "stop", kTimeoutMs);
        std::cout << "heapsnap: process " << pid_ << " stopped tracing\n";
      } else if (action == "status") {
        std::cout << ask(pid_, "status", kTimeoutMs) << "\n";
      } else {
        std::filesystem::path path = output_.empty() ? "heapsnap." + std::to_string(pid_) + ".ctl.json" : output_;
        path = std::filesystem::absolute(path);
        if (!force_ && std::filesystem::exists(path))
          throw UsageError(path.string() + " exists: give --force to replace it, or another -o");
        const std::string answer = ask(pid_, "snapshot " + path.string() + (leaks_ ? " leaks" : ""), 10 * kTimeoutMs);
        std::cout << "heapsnap: wrote " << answer.substr(3) << "\n";
      }
    } catch (const ControlError& error) {
      std::cerr << "heapsnap: " << error.what() << "\n";
      return kExitCheckFailed;
    }
    return kExitSuccess;
  }

 private:
  static constexpr int kTimeoutMs = 30'000;
  CLI::App* app_ = nullptr;
  pid_t pid_ = 0;
  unsigned depth_ = 16;
  std::string output_;
  bool leaks_ = false;
  bool force_ = false;
};

}  // namespace

std::unique_ptr<Command> make_ctl_command() { return std::make_unique<CtlCommand>(); }

}  // namespace heapsnap::cli
