// heapsnap run [options] -- PROG [ARGS...]: runs PROG with the preload library, which writes a snapshot
// when PROG exits. heapsnap exits with PROG's status, or dies of the signal that killed PROG.
//
// It talks to libheapsnap_preload.so through LD_PRELOAD (our library, prepended to any existing value)
// and the variables of preload/environment.h, set from the options of the same meaning.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/child_process.h"
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/leak_gate_options.h"
#include "cli/preload_compatibility.h"
#include "cli/preload_locator.h"
#include "cli/snapshot_input.h"
#include "cli/terminal.h"
#include "reporters/leaks/leak_report_text.h"
#include "snapshot/snapshot_json.h"
#include "preload/environment.h"

extern char** environ;

namespace heapsnap::cli {
namespace {

constexpr int kDefaultDepth = 16;
constexpr int kMaxDepth = 128;

std::optional<std::string> environment_variable(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

bool path_exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(std::filesystem::symlink_status(path, error));
}

// Dies of `signal_number` like the program did, so that the shell sees the same status. No core file:
// the program's crash is not heapsnap's.
[[noreturn]] void die_of(int signal_number) {
  const struct rlimit no_core {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  ::signal(signal_number, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal_number);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  ::raise(signal_number);
  std::_Exit(128 + signal_number);  // a signal whose default action does not terminate
}

class RunCommand final : public Command {
 public:
  std::string_view name() const override { return "run"; }
  std::string_view summary() const override {
    return "Run a program under heapsnap and write a snapshot of its memory when it exits";
  }

  void configure(CLI::App& app) override {
    app_ = &app;
    app.add_option("-o,--output", output_,
                   "Snapshot file to write; %p becomes the program's pid (default: "
                   "heapsnap.<program>.<pid>.json in the current directory)")
        ->option_text("FILE");
    app.add_option("--depth", depth_, "Frames recorded per allocation stack, 1-128 (default 16)")
        ->check(CLI::Range(1, kMaxDepth))
        ->option_text("N");
    app.add_flag("--leaks,!--no-leaks", leaks_,
                 "Classify blocks by reachability at exit (the default); --no-leaks: every live block counts as leaked");
    app.add_flag("--reachable-cycles", reachable_cycles_, "Also record reference cycles that are still reachable");
    app.add_option("--signal", signal_, "Write a leak-analysed snapshot each time the program gets this signal (USR1, USR2 or a number)")
        ->option_text("SIGNAL");
    app.add_option("--interval", interval_ms_, "Write a snapshot every MS milliseconds")
        ->check(CLI::PositiveNumber)
        ->option_text("MS");
    app.add_option("--sample-bytes", sample_bytes_,
                   "Sample one allocation per N bytes on average instead of tracing every one (estimates)")
        ->option_text("N");
    app.add_option("--unwind", unwind_, "Stack walking: cached (default), fp (programs built with frame pointers), dwarf")
        ->check(CLI::IsMember({"cached", "fp", "dwarf"}))
        ->option_text("METHOD");
    app.add_option("--snapshot-format", snapshot_format_,
                   "Encoding of the snapshot files: json (default) or cbor (compact binary; every heapsnap "
                   "command reads both)")
        ->check(CLI::IsMember({"json", "cbor"}))
        ->option_text("FORMAT");
    app.add_flag("--follow-children,!--no-follow-children", follow_children_,
                 "Profile child processes too, each into its own snapshot (the default); --no-follow-children: "
                 "only PROG and what it execs");
    app.add_flag("--check", check_,
                 "When PROG exits, apply the leak gate to every snapshot this run wrote (with the gate options "
                 "of 'heapsnap check' below); the report goes to stderr. Exit status: PROG's own when not 0, "
                 "else 23 when the gate fails");
    add_leak_gate_options(app, gate_options_);
    app.add_flag("--dormant", dormant_,
                 "Start PROG on heapsnap's allocator without tracing; 'heapsnap ctl PID start' starts tracing "
                 "(the exit snapshot is written if tracing runs by then)");
    app.add_flag("--control,!--no-control", control_,
                 "Open the control socket that 'heapsnap ctl' uses (the default with --dormant)");
    app.add_flag("--force", force_, "Replace the snapshot file if it exists");
    app.add_flag("-q,--quiet", quiet_, "Print nothing besides what the program prints");
    // Options stop at the program's name: "heapsnap run prog -o x" passes -o to prog.
    app.prefix_command();
    app.footer("Usage: heapsnap run [OPTIONS] -- PROG [ARGS...]\n"
               "Exit status: PROG's own; 127 if PROG cannot be found, 126 if it cannot be executed, "
               "2 on a heapsnap error; with --check, 23 when PROG exits 0 and the leak gate fails.");
  }

  bool takes_program_arguments() const override { return true; }
  void set_program_arguments(std::vector<std::string> arguments) override {
    after_separator_ = std::move(arguments);
    has_separator_ = true;
  }

  int run() override {
    const std::vector<std::string> program = program_arguments();
    if (!check_) {
      for (const char* gate_option : kGateOptions)
        if (app_->get_option(gate_option)->count() > 0) throw UsageError(std::string("run: ") + gate_option + " needs --check");
    }
    // Read before the program runs: a bad suppression file must not cost a whole test run.
    const SuppressionList suppressions = check_ ? load_suppressions(gate_options_.suppression_paths) : SuppressionList{};
    const auto started = std::filesystem::file_time_type::clock::now();
    if (const std::optional<std::string> reason = why_preload_cannot_work(program.front())) {
      throw UsageError("run: " + *reason);
    }
    const std::filesystem::path library = locate_preload_library(environment_variable("HEAPSNAP_PRELOAD"),
                                                                 current_executable());
    const bool named_by_pid = output_.empty() || output_.find("%p") != std::string::npos;
    if (!named_by_pid) claim_output(output_);

    const ProgramLaunch launch{program, environment(library), environment::kRootPid, environment::kOutput};
    std::filesystem::path output = output_;
    const ProgramOutcome outcome = run_program(launch, [&](pid_t child) -> std::optional<std::string> {
      // A name holding the program's pid is only known now; the program waits for it.
      if (named_by_pid) {
        output = output_.empty() ? default_output(program.front(), child)
                                 : std::filesystem::path(expand_pid(output_, child));
        claim_output(output);
      }
      // Absolute: the preload library writes it after the program may have changed directory.
      const std::string absolute = std::filesystem::absolute(output).string();
      if (absolute.size() > kMaxLateValue) throw UsageError(output.string() + ": path too long");
      return absolute;
    });
    if (!check_) return report(outcome, program.front(), output);
    const bool gate_passed = check_snapshots(snapshots_of_run(output, started), suppressions, outcome);
    const int status = report(outcome, program.front(), output);
    return status == kExitSuccess && !gate_passed ? kExitLeaksFound : status;
  }

 private:
  std::vector<std::string> program_arguments() const {
    // prefix_command() leaves the program and its arguments in remaining(); anything after "--"
    // follows them verbatim ("heapsnap run prog -a -- b" gives prog -a -- b).
    std::vector<std::string> program = app_->remaining();
    if (!program.empty() && program.front().starts_with("-")) {
      throw UsageError("run: unknown option " + program.front() + " (put the program after --)");
    }
    if (has_separator_) {
      if (!program.empty()) program.push_back("--");
      program.insert(program.end(), after_separator_.begin(), after_separator_.end());
    }
    if (program.empty() || program.front().empty()) {
      throw UsageError("run: missing the program to run: heapsnap run [OPTIONS] -- PROG [ARGS...]");
    }
    return program;
  }

  // Refuses an existing output file unless --force, which removes it now: a snapshot found after the
  // run must be this run's. A missing directory is refused too: the program would run for nothing.
  void claim_output(const std::filesystem::path& output) const {
    const std::filesystem::path directory = output.has_parent_path() ? output.parent_path() : ".";
    std::error_code status_error;
    if (!std::filesystem::is_directory(directory, status_error)) {
      throw UsageError(output.string() + ": cannot write the snapshot: " + directory.string() + " is not a directory");
    }
    if (!path_exists(output)) return;
    if (!force_) throw UsageError(output.string() + ": already exists (use --force to replace it)");
    std::error_code error;
    if (std::filesystem::is_directory(output, error)) throw UsageError(output.string() + ": is a directory");
    if (!std::filesystem::remove(output, error) && error) {
      throw UsageError(output.string() + ": cannot replace it: " + error.message());
    }
  }

  // "%p" becomes the program's pid, as the preload library does for HEAPSNAP_OUTPUT.
  static std::string expand_pid(std::string pattern, pid_t pid) {
    const std::string text = std::to_string(pid);
    for (std::size_t at = pattern.find("%p"); at != std::string::npos; at = pattern.find("%p", at + text.size())) {
      pattern.replace(at, 2, text);
    }
    return pattern;
  }

  static constexpr const char* kGateOptions[] = {"--max-leaked-bytes", "--max-leaked-blocks", "--max-cycles",
                                                 "--max-free-errors", "--baseline", "--suppressions"};

  // The snapshots this run wrote: the program's own and, when children are followed, theirs
  // (<stem>.<pid><ext> beside it, written since `started`).
  std::vector<std::filesystem::path> snapshots_of_run(const std::filesystem::path& output,
                                                      std::filesystem::file_time_type started) const {
    std::vector<std::filesystem::path> snapshots;
    if (path_exists(output)) snapshots.push_back(output);
    if (!follow_children_) return snapshots;
    const std::string stem = output.stem().string();
    const std::string extension = output.extension().string();
    std::error_code error;
    const std::filesystem::path directory = output.has_parent_path() ? output.parent_path() : ".";
    std::vector<std::filesystem::path> children;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= stem.size() + 1 + extension.size() || !name.starts_with(stem + ".") || !name.ends_with(extension)) continue;
      const std::string pid = name.substr(stem.size() + 1, name.size() - stem.size() - 1 - extension.size());
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::error_code time_error;
      if (entry.last_write_time(time_error) >= started && !time_error) children.push_back(entry.path());
    }
    std::sort(children.begin(), children.end());
    snapshots.insert(snapshots.end(), children.begin(), children.end());
    return snapshots;
  }

  // The leak gate on each snapshot; a failing one's report goes to stderr. True when all pass.
  bool check_snapshots(const std::vector<std::filesystem::path>& snapshots, const SuppressionList& suppressions,
                       const ProgramOutcome& outcome) const {
    if (snapshots.empty()) {
      if (outcome.kind == ProgramOutcome::Kind::Exited && outcome.value == 0) {
        throw UsageError("run --check: the program left no snapshot to check");
      }
      return true;  // the program's own failure says more
    }
    bool passed = true;
    for (const std::filesystem::path& path : snapshots) {
      LeakReport report = gate_leak_report(read_snapshot(path), path.string(), gate_options_, suppressions);
      if (report.gate.passed) continue;
      passed = false;
      const std::string reasons = failure_reasons(report.gate);
      LeakReportTextReporter(std::move(report), LeakReportTextReporter::kDefaultSitesShown, colour_on(STDERR_FILENO))
          .render(std::cerr);
      std::cerr << "heapsnap: check failed: " << path.string() << ": " << reasons << "\n";
    }
    return passed;
  }

  std::filesystem::path default_output(const std::string& program, pid_t pid) const {
    std::string name = std::filesystem::path(program).filename().string();
    if (name.empty()) name = "program";
    return "heapsnap." + name + "." + std::to_string(pid) + (snapshot_format_ == "cbor" ? ".cbor" : ".json");
  }

  static void set_variable(std::vector<std::string>& environment, const std::string& name, const std::string& value) {
    std::erase_if(environment, [&](const std::string& entry) { return entry.starts_with(name + "="); });
    environment.push_back(name + "=" + value);
  }

  std::vector<std::string> environment(const std::filesystem::path& library) const {
    std::vector<std::string> result;
    for (char** entry = environ; *entry != nullptr; ++entry) result.emplace_back(*entry);
    const std::optional<std::string> existing = environment_variable("LD_PRELOAD");
    set_variable(result, "LD_PRELOAD",
                 library.string() + (existing && !existing->empty() ? ":" + *existing : std::string()));
    set_variable(result, environment::kDepth, std::to_string(depth_));
    set_variable(result, environment::kStart, dormant_ ? "0" : "1");
    if (app_->count("--control") + app_->count("--no-control") > 0) set_variable(result, environment::kControl, control_ ? "1" : "0");
    set_variable(result, environment::kLeaks, leaks_ ? "1" : "0");
    if (reachable_cycles_) set_variable(result, environment::kReachableCycles, "1");
    if (!signal_.empty()) set_variable(result, environment::kSnapshotSignal, signal_);
    if (interval_ms_ > 0) set_variable(result, environment::kIntervalMs, std::to_string(interval_ms_));
    if (sample_bytes_ > 0) set_variable(result, environment::kSampleBytes, std::to_string(sample_bytes_));
    if (!unwind_.empty()) set_variable(result, environment::kUnwind, unwind_);
    if (!snapshot_format_.empty()) set_variable(result, environment::kSnapshotFormat, snapshot_format_);
    if (!follow_children_) set_variable(result, environment::kFollowChildren, "0");
    std::erase_if(result, [](const std::string& entry) {
      return entry.starts_with(std::string(environment::kRootPid) + "=") ||
             entry.starts_with(std::string(environment::kOutput) + "=");
    });
    return result;
  }

  int report(const ProgramOutcome& outcome, const std::string& program, const std::filesystem::path& output) const {
    if (outcome.kind == ProgramOutcome::Kind::NotStarted) {
      const bool not_found = outcome.value == ENOENT;
      std::cerr << "heapsnap: error: " << program << ": "
                << (not_found && program.find('/') == std::string::npos ? "command not found"
                                                                         : std::strerror(outcome.value))
                << "\n";
      return not_found ? kExitNotFound : kExitCannotExecute;
    }
    if (!quiet_) {
      if (path_exists(output)) {
        std::cerr << "heapsnap: snapshot written to " << output.string() << "\n";
      } else {
        std::cerr << "heapsnap: warning: " << program << " left no snapshot at " << output.string()
                  << " (it may have crashed, been killed, or called _exit())\n";
      }
    }
    if (outcome.kind == ProgramOutcome::Kind::Signaled) die_of(outcome.value);
    return outcome.value;
  }

  CLI::App* app_ = nullptr;
  std::string output_;
  int depth_ = kDefaultDepth;
  bool leaks_ = true;
  bool reachable_cycles_ = false;
  std::string signal_;
  long interval_ms_ = 0;
  std::uint64_t sample_bytes_ = 0;
  std::string unwind_;
  std::string snapshot_format_;
  bool follow_children_ = true;
  bool check_ = false;
  LeakGateOptions gate_options_;
  bool force_ = false;
  bool dormant_ = false;
  bool control_ = false;  // only when given: unset, the library decides (on when dormant)
  bool quiet_ = false;
  std::vector<std::string> after_separator_;
  bool has_separator_ = false;
};

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace heapsnap::cli
