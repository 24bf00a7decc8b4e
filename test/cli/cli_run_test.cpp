// `heapsnap run` end to end with a stand-in preload library (fake_preload.cpp): the environment
// contract, the output file rules, exit statuses and signals, and how the library is found.

#include "test/cli/cli_test_support.h"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

namespace {

const std::string kFakePreload = std::filesystem::canonical(HEAPSNAP_FAKE_PRELOAD_PATH).string();
const std::string kProgram = HEAPSNAP_TEST_PROGRAM_PATH;  // heapsnap_test_program STATUS [FILE...]

ProcessOptions in_directory(const TempDirectory& directory) {
  ProcessOptions options;
  options.working_directory = directory.path();
  options.environment["HEAPSNAP_PRELOAD"] = kFakePreload;
  options.environment["LD_PRELOAD"] = std::nullopt;
  return options;
}

// What the fake preload saw: process.argv holds "NAME=value" entries.
std::string observed(const Snapshot& snapshot, const std::string& name) {
  for (const std::string& entry : snapshot.process.argv) {
    if (entry.starts_with(name + "=")) return entry.substr(name.size() + 1);
  }
  return "<unset>";
}

}  // namespace

TEST_CASE("run passes the environment contract and exits with the program's status", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult result = run_heapsnap({"run", "-o", "out.json", "--", kProgram, "3"}, in_directory(directory));
  CHECK(result.exit_code == 3);
  CHECK(result.err == "heapsnap: snapshot written to out.json\n");
  CHECK(result.out.empty());

  const Snapshot snapshot = load_snapshot(directory / "out.json");
  CHECK(observed(snapshot, "LD_PRELOAD") == kFakePreload);
  CHECK(observed(snapshot, "HEAPSNAP_OUTPUT") == (std::filesystem::canonical(directory.path()) / "out.json").string());
  CHECK(observed(snapshot, "HEAPSNAP_ROOT_PID") == std::to_string(snapshot.process.pid));
  CHECK(observed(snapshot, "HEAPSNAP_DEPTH") == "16");
  CHECK(observed(snapshot, "HEAPSNAP_START") == "1");
  CHECK(observed(snapshot, "HEAPSNAP_LEAKS") == "1");
}

TEST_CASE("run --depth and --no-leaks reach the preload library", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult result =
      run_heapsnap({"run", "--depth", "4", "--no-leaks", "-o", "out.json", "--", kProgram}, in_directory(directory));
  CHECK(result.exit_code == 0);
  const Snapshot snapshot = load_snapshot(directory / "out.json");
  CHECK(observed(snapshot, "HEAPSNAP_DEPTH") == "4");
  CHECK(observed(snapshot, "HEAPSNAP_LEAKS") == "0");
}

TEST_CASE("run --no-follow-children reaches the preload library", "[cli][run]") {
  TempDirectory directory;
  REQUIRE(run_heapsnap({"run", "-o", "out.json", "--", kProgram}, in_directory(directory)).exit_code == 0);
  CHECK(observed(load_snapshot(directory / "out.json"), "HEAPSNAP_FOLLOW_CHILDREN") == "<unset>");
  REQUIRE(run_heapsnap({"run", "--no-follow-children", "--force", "-o", "out.json", "--", kProgram},
                       in_directory(directory)).exit_code == 0);
  CHECK(observed(load_snapshot(directory / "out.json"), "HEAPSNAP_FOLLOW_CHILDREN") == "0");
}

// The fake preload's snapshot has no leak analysis and 2 blocks, 1024 bytes: all of it leaked.
TEST_CASE("run --check: the program's failure wins, else 23 when the gate fails", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult leaked = run_heapsnap({"run", "--check", "-q", "-o", "a.json", "--", kProgram}, in_directory(directory));
  CHECK(leaked.exit_code == 23);
  CHECK_THAT(leaked.err, Catch::Contains("2 leaked blocks (1024 B) exceed --max-leaked-blocks 0"));
  CHECK_THAT(leaked.err, Catch::EndsWith("heapsnap: check failed: a.json: 2 leaked blocks (1024 B) exceed "
                                         "--max-leaked-blocks 0; 1024 leaked bytes exceed --max-leaked-bytes 0\n"));
  CHECK(leaked.out.empty());

  const ProcessResult within = run_heapsnap(
      {"run", "--check", "-q", "--max-leaked-blocks", "2", "--max-leaked-bytes", "1024", "-o", "b.json", "--", kProgram},
      in_directory(directory));
  CHECK(within.exit_code == 0);
  CHECK(within.err.empty());

  const ProcessResult failed = run_heapsnap({"run", "--check", "-q", "-o", "c.json", "--", kProgram, "3"}, in_directory(directory));
  CHECK(failed.exit_code == 3);
  CHECK_THAT(failed.err, Catch::Contains("heapsnap: check failed: c.json"));  // reported all the same

  const ProcessResult misused = run_heapsnap({"run", "--max-leaked-bytes", "5", "--", kProgram}, in_directory(directory));
  CHECK(misused.exit_code == 2);
  CHECK(misused.err == "heapsnap: error: run: --max-leaked-bytes needs --check\n");
}

TEST_CASE("run prepends the library to an existing LD_PRELOAD", "[cli][run]") {
  TempDirectory directory;
  ProcessOptions options = in_directory(directory);
  options.environment["LD_PRELOAD"] = "libm.so.6";
  CHECK(run_heapsnap({"run", "-q", "-o", "out.json", "--", kProgram}, options).exit_code == 0);
  CHECK(observed(load_snapshot(directory / "out.json"), "LD_PRELOAD") == kFakePreload + ":libm.so.6");
}

TEST_CASE("run names the default snapshot after the program and its pid", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult result = run_heapsnap({"run", "--", kProgram}, in_directory(directory));
  CHECK(result.exit_code == 0);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory.path())) files.push_back(entry.path());
  REQUIRE(files.size() == 1);
  const Snapshot snapshot = load_snapshot(files[0]);
  const std::string expected = "heapsnap.heapsnap_test_program." + std::to_string(snapshot.process.pid) + ".json";
  CHECK(files[0].filename() == expected);
  CHECK(result.err == "heapsnap: snapshot written to " + expected + "\n");
  // The file is mode 0600: snapshots hold paths and arguments.
  struct stat status {};
  REQUIRE(::stat(files[0].c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);
}

TEST_CASE("run expands %p in -o to the program's pid", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult result = run_heapsnap({"run", "-o", "out.%p.json", "--", kProgram}, in_directory(directory));
  CHECK(result.exit_code == 0);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory.path())) files.push_back(entry.path());
  REQUIRE(files.size() == 1);
  const std::string expected = "out." + std::to_string(load_snapshot(files[0]).process.pid) + ".json";
  CHECK(files[0].filename() == expected);
  CHECK(result.err == "heapsnap: snapshot written to " + expected + "\n");
}

TEST_CASE("run refuses an output directory that does not exist, before running anything", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult result =
      run_heapsnap({"run", "-o", "missing/out.json", "--", kProgram, "0", "ran"}, in_directory(directory));
  CHECK(result.exit_code == 2);
  CHECK(result.err == "heapsnap: error: missing/out.json: cannot write the snapshot: missing is not a directory\n");
  CHECK_FALSE(std::filesystem::exists(directory / "ran"));
}

TEST_CASE("run takes the program's options as the program's", "[cli][run]") {
  TempDirectory directory;
  // After "--", and without it: everything from the program's name on belongs to the program,
  // which creates the files its arguments name.
  CHECK(run_heapsnap({"run", "-q", "-o", "a.json", "--", kProgram, "4", "-o", "--depth"}, in_directory(directory))
            .exit_code == 4);
  CHECK(std::filesystem::exists(directory / "-o"));
  CHECK(std::filesystem::exists(directory / "--depth"));
  CHECK(std::filesystem::exists(directory / "a.json"));
  CHECK(run_heapsnap({"run", "-q", "-o", "b.json", kProgram, "6", "-q", "--", "--force"}, in_directory(directory))
            .exit_code == 6);
  CHECK(std::filesystem::exists(directory / "-q"));
  CHECK(std::filesystem::exists(directory / "--"));
  CHECK(std::filesystem::exists(directory / "--force"));

  const ProcessResult unknown = run_heapsnap({"run", "--bogus", "true"}, in_directory(directory));
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown option --bogus"));
  const ProcessResult nothing = run_heapsnap({"run", "--"}, in_directory(directory));
  CHECK(nothing.exit_code == 2);
  CHECK_THAT(nothing.err, Catch::Contains("missing the program to run"));
}

TEST_CASE("run refuses an existing snapshot file unless --force, before running anything", "[cli][run]") {
  TempDirectory directory;
  heapsnap::test::write_text_file(directory / "out.json", "old");
  const ProcessResult refused =
      run_heapsnap({"run", "-o", "out.json", "--", kProgram, "0", "ran"}, in_directory(directory));
  CHECK(refused.exit_code == 2);
  CHECK(refused.err == "heapsnap: error: out.json: already exists (use --force to replace it)\n");
  CHECK_FALSE(std::filesystem::exists(directory / "ran"));
  CHECK(heapsnap::test::read_text_file(directory / "out.json") == "old");

  const ProcessResult forced =
      run_heapsnap({"run", "--force", "-o", "out.json", "--", kProgram, "0", "ran"}, in_directory(directory));
  CHECK(forced.exit_code == 0);
  CHECK(std::filesystem::exists(directory / "ran"));
  CHECK(load_snapshot(directory / "out.json").traces.size() == 1);
}

TEST_CASE("run warns when the program leaves no snapshot, and --force never keeps a stale one", "[cli][run]") {
  TempDirectory directory;
  heapsnap::test::write_text_file(directory / "out.json", "stale");
  // The program drops HEAPSNAP_OUTPUT before it execs the part that exits, so nothing is written.
  const ProcessResult result = run_heapsnap(
      {"run", "--force", "-o", "out.json", "--", "sh", "-c", "exec env -u HEAPSNAP_OUTPUT sh -c 'exit 9'"},
      in_directory(directory));
  CHECK(result.exit_code == 9);
  CHECK_THAT(result.err, Catch::StartsWith("heapsnap: warning: sh left no snapshot at out.json"));
  CHECK_FALSE(std::filesystem::exists(directory / "out.json"));
}

TEST_CASE("run dies of the signal that killed the program", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult result = run_heapsnap({"run", "-o", "out.json", "--", "sh", "-c", "kill -USR1 $$"},
                                            in_directory(directory));
  CHECK(result.exit_code == -1);
  CHECK(result.signal_number == SIGUSR1);
  CHECK_THAT(result.err, Catch::StartsWith("heapsnap: warning: sh left no snapshot"));
}

TEST_CASE("run ignores SIGINT and forwards SIGTERM to the program", "[cli][run]") {
  TempDirectory directory;
  // The program signals heapsnap, its parent: SIGINT is ignored, so heapsnap reports status 5...
  const ProcessResult interrupted =
      run_heapsnap({"run", "-q", "-o", "a.json", "--", "sh", "-c", "kill -INT $PPID; exit 5"}, in_directory(directory));
  CHECK(interrupted.signal_number == 0);
  CHECK(interrupted.exit_code == 5);
  // ...and SIGTERM goes on to the program, which dies of it, and so does heapsnap. Without forwarding
  // the sleep would end normally and heapsnap exit 0.
  const ProcessResult terminated = run_heapsnap(
      {"run", "-q", "-o", "b.json", "--", "sh", "-c", "kill -TERM $PPID; exec sleep 60"}, in_directory(directory));
  CHECK(terminated.signal_number == SIGTERM);
}

TEST_CASE("run exits 127 for a program it cannot find and 126 for one it cannot execute", "[cli][run]") {
  TempDirectory directory;
  const ProcessResult missing = run_heapsnap({"run", "--", "heapsnap-no-such-program"}, in_directory(directory));
  CHECK(missing.exit_code == 127);
  CHECK(missing.err == "heapsnap: error: heapsnap-no-such-program: command not found\n");
  CHECK(run_heapsnap({"run", "--", "./missing"}, in_directory(directory)).exit_code == 127);

  heapsnap::test::write_text_file(directory / "not-executable", "#!/bin/sh\nexit 0\n");
  const ProcessResult denied = run_heapsnap({"run", "--", "./not-executable"}, in_directory(directory));
  CHECK(denied.exit_code == 126);
  CHECK(denied.err == "heapsnap: error: ./not-executable: Permission denied\n");
  // Nothing ran: no snapshot, and no warning about one.
  CHECK(std::distance(std::filesystem::directory_iterator(directory.path()), {}) == 1);
}

TEST_CASE("run reports a preload library it cannot find", "[cli][run]") {
  TempDirectory directory;
  ProcessOptions options = in_directory(directory);
  options.environment["HEAPSNAP_PRELOAD"] = (directory / "nope.so").string();
  const ProcessResult named = run_heapsnap({"run", "--", "true"}, options);
  CHECK(named.exit_code == 2);
  CHECK(named.err == "heapsnap: error: HEAPSNAP_PRELOAD=" + (directory / "nope.so").string() + ": no such file\n");

  // A copy of heapsnap with no library beside it, nor installed.
  std::filesystem::create_directories(directory / "bin");
  std::filesystem::copy_file(heapsnap::test::heapsnap_binary(), directory / "bin" / "heapsnap");
  options.environment["HEAPSNAP_PRELOAD"] = std::nullopt;
  const ProcessResult result = heapsnap::test::run_process({(directory / "bin" / "heapsnap").string(), "run", "--", "true"}, options);
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::StartsWith("heapsnap: error: cannot find libheapsnap_preload.so (looked at "));
  CHECK_THAT(result.err, Catch::Contains("set HEAPSNAP_PRELOAD"));
}

TEST_CASE("run finds the library in the build tree and in the installed layout", "[cli][run]") {
  // bin/../lib is the build tree; bin/<bindir-to-libdir>[/heapsnap] the installed layouts.
  for (const std::filesystem::path& library_directory :
       {std::filesystem::path("bin/../lib"), std::filesystem::path("bin") / HEAPSNAP_BINDIR_TO_LIBDIR / "heapsnap",
        std::filesystem::path("bin") / HEAPSNAP_BINDIR_TO_LIBDIR}) {
    INFO("library in " << library_directory);
    TempDirectory prefix;
    std::filesystem::create_directories(prefix / "bin");
    std::filesystem::create_directories((prefix.path() / library_directory).lexically_normal());
    std::filesystem::copy_file(heapsnap::test::heapsnap_binary(), prefix / "bin" / "heapsnap");
    const auto library = (prefix.path() / library_directory / "libheapsnap_preload.so").lexically_normal();
    std::filesystem::copy_file(kFakePreload, library);
    ProcessOptions options = in_directory(prefix);
    options.environment["HEAPSNAP_PRELOAD"] = std::nullopt;
    const ProcessResult result =
        heapsnap::test::run_process({(prefix / "bin" / "heapsnap").string(), "run", "-o", "out.json", "--", kProgram}, options);
    REQUIRE(result.exit_code == 0);
    CHECK(observed(load_snapshot(prefix / "out.json"), "LD_PRELOAD") == std::filesystem::canonical(library).string());
  }
}
