// heapsnap top PID: a live view of a running process's allocation sites (one started by
// `heapsnap run --dormant` or `--control`), refreshed every interval from its per-site totals, which
// cost the process time in proportion to its sites, not to its heap. At a terminal it takes over the
// screen, with keys to sort and to quit; otherwise (or with --batch) it prints one table per interval,
// as `top -b` does.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "cli/control_client.h"
#include "cli/exit_codes.h"
#include "cli/full_screen.h"
#include "cli/snapshot_input.h"
#include "reporters/live_top.h"
#include "snapshot/format_size.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap::cli {
namespace {

constexpr int kTimeoutMs = 10'000;

const std::map<std::string, LiveTopOrder>& order_names() {
  static const std::map<std::string, LiveTopOrder> names{
      {"live", LiveTopOrder::Live}, {"growth", LiveTopOrder::Growth}, {"change", LiveTopOrder::Change}, {"blocks", LiveTopOrder::Blocks}};
  return names;
}

std::string order_name(LiveTopOrder order) {
  for (const auto& [name, value] : order_names())
    if (value == order) return name;
  return {};
}

std::string command_of(pid_t pid) {
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// What one refresh learnt of the process.
struct Reading {
  bool tracing = false;
  unsigned depth = 0;
  std::uint64_t traced = 0;
  std::uint64_t peak = 0;
  std::optional<Snapshot> sites;  // when tracing
};

Reading read_process(pid_t pid) {
  Reading reading;
  const nlohmann::json status = nlohmann::json::parse(ask(pid, "status", kTimeoutMs), nullptr, false);
  if (!status.is_object()) throw ControlError("process " + std::to_string(pid) + " gave a status heapsnap does not understand");
  reading.tracing = status.value("tracing", false);
  reading.depth = status.value("depth", 0u);
  reading.traced = status.value("traced_bytes", std::uint64_t{0});
  reading.peak = status.value("peak_bytes", std::uint64_t{0});
  if (!reading.tracing) return reading;
  try {
    reading.sites = parse_snapshot(ask_for_bytes(pid, "live", kTimeoutMs), "process " + std::to_string(pid));
    name_frames_locally(*reading.sites);
  } catch (const ControlError&) {
    if (kill(pid, 0) != 0) throw;
    reading.tracing = false;  // stopped between the two requests
  } catch (const std::exception& e) {
    throw ControlError("process " + std::to_string(pid) + " sent sites heapsnap cannot read: " + e.what());
  }
  return reading;
}

class TopCommand final : public Command {
 public:
  std::string_view name() const override { return "top"; }
  std::string_view summary() const override {
    return "Watch a running process's allocation sites live (heapsnap run --dormant / --control)";
  }

  void configure(CLI::App& app) override {
    app.add_option("PID", pid_, "The process, started by `heapsnap run --dormant` or `--control`")->required();
    app.add_option("-d,--interval", interval_, "Seconds between refreshes (default 1)")->check(CLI::Range(0.1, 3600.0))->option_text("SECONDS");
    app.add_option("-s,--sort", order_, "Order of the rows: live (default), growth (since top began), change (since the last refresh) or blocks")
        ->transform(CLI::CheckedTransformer(order_names()))
        ->option_text("live|growth|change|blocks");
    add_group_by_option(app, group_by_);
    app.add_option("--limit", limit_, "Rows shown (default: as many as the terminal holds; 20 in batch mode; 0 all)")
        ->check(CLI::NonNegativeNumber)->option_text("N");
    app.add_flag("-b,--batch", batch_, "Print one table per refresh instead of taking over the terminal (the default when not at a terminal)");
    app.add_option("-n,--iterations", iterations_, "Refreshes before exiting (default: until the process ends or q / Ctrl-C)")
        ->check(CLI::NonNegativeNumber)->option_text("N");
  }

  int run() override {
    std::optional<Reading> first_reading;
    try {
      first_reading = read_process(pid_);
    } catch (const ControlError& error) {
      std::cerr << "heapsnap: " << error.what() << "\n";
      return kExitCheckFailed;
    }
    command_ = command_of(pid_);
    const bool at_terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    const int status = batch_ || !at_terminal ? run_batch(std::move(*first_reading)) : run_full_screen(std::move(*first_reading));
    // After the screen is given back: the message must stay on the user's own screen.
    if (!ended_message_.empty()) std::cerr << "heapsnap top: " << ended_message_ << "\n";
    return status;
  }

 private:
  // Keeps the first, the previous and the latest site totals, for the growth and change columns.
  void take(Reading reading) {
    if (reading.sites) {
      if (!first_) first_ = *reading.sites;
      previous_ = latest_ ? std::move(latest_) : reading.sites;
      latest_ = std::move(reading.sites);
    }
    reading_ = std::move(reading);
  }

  std::vector<std::string> heading() const {
    std::string line = "heapsnap top: process " + std::to_string(pid_) + (command_.empty() ? "" : " (" + command_ + ")");
    if (reading_.tracing) {
      line += ", tracing " + std::to_string(reading_.depth) + " frames; traced " + format_size(reading_.traced) + ", peak " +
              format_size(reading_.peak);
    } else {
      line += ", not tracing: start it with `heapsnap ctl " + std::to_string(pid_) + " start`";
    }
    return {line, "sorted by " + order_name(order_) + ", every " + format_interval() + (batch_mode_ ? "" : "; keys: l live, g growth, c change, b blocks, q quit")};
  }

  std::string format_interval() const {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", interval_);
    return text;
  }

  std::vector<std::string> table(std::size_t limit, std::size_t width) const {
    if (!latest_ || !reading_.tracing) return {};
    return format_live_top(live_top_rows(*latest_, *previous_, *first_, group_by_, order_), limit, width, order_);
  }

  int run_batch(Reading first) {
    batch_mode_ = true;
    const std::size_t limit = limit_.value_or(20);
    take(std::move(first));
    for (unsigned shown = 1;; ++shown) {
      const std::time_t now = std::time(nullptr);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%F %T", std::localtime(&now));
      std::cout << heading()[0] << ", " << stamp << "\n";
      for (const std::string& line : table(limit, 0)) std::cout << line << "\n";
      std::cout << std::endl;
      if (iterations_ != 0 && shown >= iterations_) return kExitSuccess;
      usleep(static_cast<useconds_t>(interval_ * 1e6));
      if (!refresh()) return kExitSuccess;
    }
  }

  int run_full_screen(Reading first) {
    take(std::move(first));
    FullScreen screen(STDIN_FILENO, STDOUT_FILENO);
    unsigned shown = 0;
    auto next = std::chrono::steady_clock::now();
    while (true) {
      draw(screen);
      if (next <= std::chrono::steady_clock::now()) {
        ++shown;
        next = std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<long>(interval_ * 1e6));
      }
      if (iterations_ != 0 && shown >= iterations_) return kExitSuccess;
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now());
      char key = 0;
      switch (screen.wait(static_cast<int>(std::max<long>(wait.count(), 0)), key)) {
        case FullScreen::Event::Quit: return kExitSuccess;
        case FullScreen::Event::Resize: continue;
        case FullScreen::Event::Key:
          if (key == 'q' || key == 'Q') return kExitSuccess;
          if (key == 'l') order_ = LiveTopOrder::Live;
          if (key == 'g') order_ = LiveTopOrder::Growth;
          if (key == 'c') order_ = LiveTopOrder::Change;
          if (key == 'b') order_ = LiveTopOrder::Blocks;
          continue;
        case FullScreen::Event::Timeout:
          if (!refresh()) return kExitSuccess;
      }
    }
  }

  void draw(FullScreen& screen) const {
    std::vector<std::string> lines = heading();
    lines.emplace_back();
    const std::size_t rows = static_cast<std::size_t>(screen.rows());
    const std::size_t fit = rows > lines.size() + 2 ? rows - lines.size() - 2 : 1;
    const std::size_t highlighted = lines.size();
    for (std::string& line : table(limit_.value_or(fit), static_cast<std::size_t>(screen.columns()))) lines.push_back(std::move(line));
    screen.draw(lines, highlighted);
  }

  // False when the process can no longer be read (it ended, most likely): the reason is kept for stderr.
  bool refresh() {
    try {
      take(read_process(pid_));
      return true;
    } catch (const ControlError& error) {
      ended_message_ = error.what();
      return false;
    }
  }

  pid_t pid_ = 0;
  double interval_ = 1.0;
  LiveTopOrder order_ = LiveTopOrder::Live;
  GroupBy group_by_ = GroupBy::Lineno;
  std::optional<std::size_t> limit_;
  bool batch_ = false;
  unsigned iterations_ = 0;

  bool batch_mode_ = false;
  std::string command_;
  std::string ended_message_;
  Reading reading_;
  std::optional<Snapshot> first_, previous_, latest_;
};

}  // namespace

std::unique_ptr<Command> make_top_command() { return std::make_unique<TopCommand>(); }

}  // namespace heapsnap::cli
