// Start-up, fork and exit handling of libheapsnap_preload.so.

#include <link.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "allocator/allocator.h"
#include "allocator/os.h"
#include "preload/api.h"
#include "preload/control_server.h"
#include "preload/environment.h"
#include "preload/runtime.h"
#include "runtime/domain_tracker.h"
#include "runtime/recursion_guard.h"
#include "runtime/site_counters.h"
#include "runtime/snapshot_service.h"
#include "runtime/stack_capture.h"
#include "runtime/trace_table.h"
#include "runtime/traced_memory.h"
#include "runtime/tracing.h"
#include "snapshot/snapshot_json.h"

namespace heapsnap {
namespace {

ExitLeakAnalysis g_leak_analysis = nullptr;
bool g_write_at_exit = false;
bool g_analyze_leaks = true;
bool g_reachable_cycles = false;

// The whole number in the environment variable `name`; `fallback` when it is unset, and also (with
// a warning naming what was expected) when it is not a number in [min, max].
std::uint64_t number_from_environment(const char* name, std::uint64_t min, std::uint64_t max, std::uint64_t fallback,
                                      const char* expected) noexcept {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long number = std::strtoull(text, &end, 10);
  if (*end != '\0' || text[0] == '-' || number < min || number > max) {
    say("ignoring " + std::string(name) + "=" + text + " (" + expected + ")");
    return fallback;
  }
  return number;
}

SnapshotEncoding g_encoding = SnapshotEncoding::Json;  // set once at load

SnapshotEncoding encoding_from_environment() noexcept {
  const char* text = std::getenv(environment::kSnapshotFormat);
  if (text == nullptr || *text == '\0' || std::strcmp(text, "json") == 0) return SnapshotEncoding::Json;
  if (std::strcmp(text, "cbor") == 0) return SnapshotEncoding::Cbor;
  say("ignoring " + std::string(environment::kSnapshotFormat) + "=" + text + " (use json or cbor)");
  return SnapshotEncoding::Json;
}

UnwindMethod unwind_method_from_environment() noexcept {
  const char* text = std::getenv(environment::kUnwind);
  if (text == nullptr || *text == '\0' || std::strcmp(text, "cached") == 0) return UnwindMethod::Cached;
  if (std::strcmp(text, "fp") == 0) return UnwindMethod::FramePointers;
  if (std::strcmp(text, "dwarf") == 0) return UnwindMethod::Dwarf;
  say("ignoring " + std::string(environment::kUnwind) + "=" + text + " (use cached, fp or dwarf)");
  return UnwindMethod::Cached;
}

bool flag_from_environment(const char* name, bool fallback) noexcept {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  return std::strcmp(text, "0") != 0;
}

// The process `heapsnap run` started (HEAPSNAP_ROOT_PID), also after it execs; true when run without it.
bool is_root_process() noexcept {
  const char* root = std::getenv(environment::kRootPid);
  return root == nullptr || std::to_string(getpid()) == root;
}

// HEAPSNAP_OUTPUT with "%p" expanded; processes other than HEAPSNAP_ROOT_PID (forked or exec'd
// descendants) get ".<pid>" before the extension so no process overwrites another's snapshot.
// Numbered snapshots (signal, interval) insert ".snap-<n>" as well.
std::filesystem::path output_path(unsigned sequence = 0) {
  const std::string pid = std::to_string(getpid());
  const char* configured = std::getenv(environment::kOutput);
  std::string path = configured != nullptr && *configured != '\0' ? configured : "heapsnap.%p.json";
  bool has_pid = false;
  for (std::size_t at; (at = path.find("%p")) != std::string::npos; has_pid = true) path.replace(at, 2, pid);
  std::string infix;
  if (!has_pid && !is_root_process()) infix += "." + pid;
  if (sequence != 0) infix += ".snap-" + std::to_string(sequence);
  if (infix.empty()) return path;
  std::filesystem::path p(path);
  return p.parent_path() / (p.stem().string() + infix + p.extension().string());
}

// Set when the program's last snapshot (exit, _exit, terminating signal) begins: numbered snapshots stop.
std::atomic<bool> g_final_snapshot_started{false};

// Takes a snapshot (leak-analysed when asked and possible) and writes it to `path`. Throws on failure.
// Set when `heapsnap ctl start` started tracing in a dormant process: its snapshot files then show what
// was allocated before, as one site (Trace::before_tracing).
std::atomic<bool> g_started_from_outside{false};

void write_snapshot_to(const std::filesystem::path& path, const char* reason, bool analyze_leaks) {
  std::optional<LeakFindings> findings;
  if (analyze_leaks && g_leak_analysis != nullptr) findings = g_leak_analysis(g_reachable_cycles);
  save_snapshot(build_snapshot(reason, findings ? &*findings : nullptr, LiveBlockSource::HeapWalk, g_started_from_outside.load()),
                path, g_encoding);
}

// Takes a snapshot (leak-analysed when asked and possible) and writes it to output_path(sequence);
// never throws. Everything it allocates, the file name included, is heapsnap's own, not the program's.
void write_snapshot(const char* reason, bool analyze_leaks, unsigned sequence = 0) noexcept {
  RecursionGuard guard;
  if (sequence == 0) g_final_snapshot_started.store(true);
  if (sequence != 0 && g_final_snapshot_started.load()) return;
  try {
    const std::filesystem::path path = output_path(sequence);
    std::optional<LeakFindings> findings;
    if (analyze_leaks && g_leak_analysis != nullptr) findings = g_leak_analysis(g_reachable_cycles);
    // Interval snapshots sum the per-site totals: frequent, they must not cost a walk of the heap.
    const auto source = sequence != 0 && !findings ? LiveBlockSource::SiteCounters : LiveBlockSource::HeapWalk;
    // Numbered snapshots carry the peak since the previous one, and start the next window.
    const Snapshot snapshot = build_snapshot(reason, findings ? &*findings : nullptr, source, g_started_from_outside.load(),
                                             sequence != 0 ? PeakWindow::SincePreviousSnapshot : PeakWindow::Whole);
    if (sequence != 0) traced_memory::start_peak_window();
    // A numbered snapshot that waited while the program's last snapshot was built would land after it:
    // the last one stays the last.
    if (sequence != 0 && g_final_snapshot_started.load()) return;
    save_snapshot(snapshot, path, g_encoding);
  } catch (const std::exception& e) {
    say(std::string("cannot write the ") + reason + " snapshot: " + e.what());
  } catch (...) {
    say(std::string("cannot write the ") + reason + " snapshot");
  }
}

// On the snapshot service's thread. A signal asks for a leak analysis; an interval snapshot is a
// plain one (stopping the world on every tick would slow the program down).
void take_numbered_snapshot(const char* reason, unsigned sequence) {
  if (!is_tracing()) return;
  write_snapshot(reason, std::strcmp(reason, "signal") == 0 && g_analyze_leaks, sequence);
}

// On the service thread, while a thread of the program waits in the handler of a terminating signal:
// the snapshot the program would have left at exit, leak-analysed as that one is.
void take_final_snapshot(const char* reason) {
  if (!is_tracing()) return;
  write_snapshot(reason, g_analyze_leaks);
}

int signal_from_environment() noexcept {
  const char* text = std::getenv(environment::kSnapshotSignal);
  if (text == nullptr || *text == '\0') return 0;
  const std::string name = text;
  if (name == "USR1" || name == "SIGUSR1") return SIGUSR1;
  if (name == "USR2" || name == "SIGUSR2") return SIGUSR2;
  char* end = nullptr;
  const long number = std::strtol(text, &end, 10);
  if (*end == '\0' && number > 0 && number < NSIG && number != SIGKILL && number != SIGSTOP) return static_cast<int>(number);
  say("ignoring " + std::string(environment::kSnapshotSignal) + "=" + name + " (use USR1, USR2 or a signal number)");
  return 0;
}

// Every lock heapsnap has is held across fork(), in one order, so the child never inherits one held
// by a thread that does not exist there.
void before_fork() noexcept {
  snapshot_lock_before_fork();
  domain_tracker_before_fork();
  trace_table_before_fork();
}
void after_fork_in_parent() noexcept {
  trace_table_after_fork();
  domain_tracker_after_fork();
  snapshot_unlock_after_fork();
}
// The process this runtime belongs to: set at load and after fork. A vfork or posix_spawn child runs
// in its parent's memory without fork handlers, so its getpid() differs from this.
std::atomic<pid_t> g_own_pid{0};

// HEAPSNAP_FOLLOW_CHILDREN=0: a child neither traces nor writes a snapshot.
bool g_follow_children = true;  // set once at load
bool g_control = false;         // HEAPSNAP_CONTROL: serve `heapsnap ctl` (set once at load)

SnapshotServiceConfig service_config() noexcept;
std::atomic<bool> g_service_running{false};

// The snapshot service (terminating signals, --signal, --interval), started with tracing: at load, or
// when `heapsnap ctl start` starts a dormant process.
void start_service_once() noexcept {
  if (!g_service_running.exchange(true)) start_snapshot_service(service_config());
}

// What `heapsnap ctl` asks of this process (preload/control_server.h), on the control thread.
namespace control {

std::string status() {
  const TracedMemory traced = get_traced_memory();
  return "{\"pid\":" + std::to_string(getpid()) + ",\"tracing\":" + (is_tracing() ? "true" : "false") +
         ",\"depth\":" + std::to_string(get_traceback_limit()) + ",\"traced_bytes\":" + std::to_string(traced.current) +
         ",\"peak_bytes\":" + std::to_string(traced.peak) + "}";
}

std::string start(unsigned depth) {
  if (is_tracing()) return "";
  try {
    heapsnap::start(depth);
  } catch (const std::exception& e) {
    return e.what();
  }
  g_started_from_outside.store(true);
  start_service_once();
  return "";
}

void stop() { heapsnap::stop(); }

std::string snapshot(const std::string& path, bool leaks) {
  if (!is_tracing()) return "tracing is not started (heapsnap ctl PID start)";
  RecursionGuard guard;
  try {
    write_snapshot_to(path, "ctl", leaks && g_analyze_leaks);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

bool live_sites(std::string& out) {
  if (!is_tracing()) {
    out = "tracing is not started (heapsnap ctl PID start)";
    return false;
  }
  RecursionGuard guard;
  try {
    std::ostringstream bytes;
    write_snapshot_cbor(build_snapshot("live", nullptr, LiveBlockSource::SiteCounters), bytes);
    out = std::move(bytes).str();
    return true;
  } catch (const std::exception& e) {
    out = e.what();
    return false;
  }
}

}  // namespace control

constexpr ControlHandlers kControlHandlers{control::status, control::start, control::stop, control::snapshot,
                                           control::live_sites};


void after_fork_in_child() noexcept {
  g_own_pid.store(getpid());
  g_final_snapshot_started.store(false);  // the child's own last snapshot is still to come
  after_fork_in_parent();
  alloc::after_fork_in_child();
  site_counters::after_fork_in_child();
  if (!g_follow_children) {
    g_write_at_exit = false;
    stop_tracing_in_child();
    restart_control_server_after_fork(false);
    return;
  }
  restart_snapshot_service_after_fork();
  restart_control_server_after_fork(g_control);
}

// This library's globals are heapsnap's bookkeeping (the allocator's registry and segment map, the
// trace index...), not the program's: registered as internal, a leak analysis leaves them out of the
// module globals it scans. Scanning them cost every exit about 350 KiB of reads, and a block address
// heapsnap keeps there would have hidden a leak.
void register_own_globals_as_internal() noexcept {
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void*) -> int {
        const auto own_code = reinterpret_cast<std::uintptr_t>(&register_own_globals_as_internal);
        bool is_self = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          const std::uintptr_t start = info->dlpi_addr + segment.p_vaddr;
          is_self |= segment.p_type == PT_LOAD && own_code >= start && own_code < start + segment.p_memsz;
        }
        if (!is_self) return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          if (segment.p_type == PT_LOAD && (segment.p_flags & PF_W) != 0)
            alloc::register_internal_memory(reinterpret_cast<const void*>(info->dlpi_addr + segment.p_vaddr), segment.p_memsz);
        }
        return 1;
      },
      nullptr);
}

[[gnu::constructor]] void on_load() noexcept {
  RecursionGuard guard;
  register_own_globals_as_internal();
  g_own_pid.store(getpid());
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  const bool has_output = std::getenv(environment::kOutput) != nullptr;
  g_analyze_leaks = flag_from_environment(environment::kLeaks, true);
  g_reachable_cycles = flag_from_environment(environment::kReachableCycles, false);
  set_unwind_method(unwind_method_from_environment());
  g_encoding = encoding_from_environment();
  tracing::g_sample_bytes.store(number_from_environment(environment::kSampleBytes, 0, UINT64_MAX, 0,
                                                       "a whole number of bytes; 0 traces every allocation"));
  g_follow_children = flag_from_environment(environment::kFollowChildren, true);
  if (!g_follow_children && !is_root_process()) return;  // a child: dormant, and not for `ctl` either
  const bool start_now = flag_from_environment(environment::kStart, has_output);
  // Dormant by HEAPSNAP_START=0, a process is meant to be started from outside: it serves `heapsnap
  // ctl` unless told not to. (A program linking the library for its API is dormant too, but starts
  // itself: no socket for it unless asked.)
  const bool dormant_by_request = !start_now && std::getenv(environment::kStart) != nullptr;
  g_control = flag_from_environment(environment::kControl, dormant_by_request);
  if (g_control) start_control_server(kControlHandlers);
  g_write_at_exit = has_output;  // once tracing runs, whoever started it
  if (!start_now) return;
  g_write_at_exit = true;
  try {
    start(static_cast<unsigned>(number_from_environment(environment::kDepth, 1, kMaxFrames, 16, "must be 1..128; using 16")));
  } catch (const std::exception& e) {
    say(e.what());
  }
  start_service_once();
}

SnapshotServiceConfig service_config() noexcept {
  const std::chrono::milliseconds interval(
      number_from_environment(environment::kIntervalMs, 1, INT32_MAX, 0, "a whole number of milliseconds >= 1"));
  return {signal_from_environment(), interval, take_numbered_snapshot, take_final_snapshot};
}

// Runs from _dl_fini, after the program's static destructors and atexit handlers: what is still
// allocated now is what the program never freed.
[[gnu::destructor]] void on_unload() noexcept {
  close_control_server();
  if (!g_write_at_exit || !is_tracing()) return;
  write_snapshot("exit", g_analyze_leaks);
}

}  // namespace

void say(const std::string& message) noexcept {
  const std::string line = "heapsnap: " + message + "\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
}

void write_snapshot_at_immediate_exit() noexcept {
  // Not in a vfork child (it shares its parent's heap), and not when this thread was interrupted inside
  // heapsnap by a signal whose handler exits: it may hold a lock the snapshot needs.
  if (!g_write_at_exit || !is_tracing() || tl_inside_heapsnap || getpid() != g_own_pid.load()) return;
  g_write_at_exit = false;  // once, even if _exit is somehow reached again
  write_snapshot("_exit", g_analyze_leaks);
}

void set_exit_leak_analysis(ExitLeakAnalysis analysis) noexcept { g_leak_analysis = analysis; }

}  // namespace heapsnap
