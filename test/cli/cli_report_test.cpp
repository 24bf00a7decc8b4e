// `heapsnap report`: the page it writes, --title, --force, and exit 2 for inputs it cannot use.

#include "test/cli/cli_test_support.h"

#include <filesystem>

namespace {

struct ReportFiles {
  TempDirectory directory;
  std::string first = (directory / "run.snap-1.json").string();
  std::string last = (directory / "run.json").string();
  std::string report = (directory / "report.html").string();

  ReportFiles() {
    Snapshot running = SnapshotBuilder().add(0, 4096, stack({frame("src/cache.cpp", 7, "Cache::put")})).build();
    running.process.unix_time_ms = 1000;
    running.process.reason = "interval";
    running.process.argv = {"/opt/bin/service", "--port", "80"};
    save_snapshot(running, first);
    Snapshot at_exit = SnapshotBuilder()
                           .leak_analysis(true)
                           .add(0, 96, stack({frame("src/widget.cpp", 12, "make_widget")}), 2, Reachability::Direct)
                           .build();
    at_exit.process.unix_time_ms = 1500;
    at_exit.process.reason = "exit";
    at_exit.process.argv = running.process.argv;
    save_snapshot(at_exit, last);
  }
};

}  // namespace

TEST_CASE("heapsnap report writes one HTML page of the snapshots", "[cli][report]") {
  ReportFiles files;
  const auto result = run_heapsnap({"report", files.last, files.first, "-o", files.report});
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(result.err == "heapsnap: report written to " + files.report + "\n");
  const std::string page = read_text_file(files.report);
  CHECK_THAT(page, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(page, Catch::Contains("<title>heapsnap report: service</title>"));
  CHECK_THAT(page, Catch::Contains("\"file\":\"" + files.first + "\""));
  CHECK_THAT(page, Catch::Contains("\"make_widget\""));
  CHECK_THAT(page, Catch::Contains("\"Cache::put\""));
  CHECK_THAT(page, Catch::EndsWith("</html>\n"));
  // Nothing to fetch: no src= or href= pointing anywhere.
  CHECK_THAT(page, !Catch::Contains(" src=") && !Catch::Contains(" href="));
  CHECK((std::filesystem::status(files.report).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);

  const auto titled = run_heapsnap({"report", files.first, "-o", files.report, "--force", "--title", "Nightly <run>"});
  CHECK(titled.exit_code == 0);
  CHECK_THAT(read_text_file(files.report), Catch::Contains("<title>Nightly &lt;run&gt;</title>"));
  CHECK_THAT(run_heapsnap({"--help"}).out, Catch::Contains("report"));
  CHECK_THAT(run_heapsnap({"report", "--help"}).out, Catch::Contains("--title"));
}

TEST_CASE("heapsnap report never overwrites without --force", "[cli][report]") {
  ReportFiles files;
  heapsnap::test::write_text_file(files.report, "keep me");
  const auto refused = run_heapsnap({"report", files.last, "-o", files.report});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err == "heapsnap: error: " + files.report + ": already exists (use --force to replace it)\n");
  CHECK(read_text_file(files.report) == "keep me");

  const auto forced = run_heapsnap({"report", files.last, "-o", files.report, "--force"});
  CHECK(forced.exit_code == 0);
  CHECK_THAT(read_text_file(files.report), Catch::StartsWith("<!DOCTYPE html>"));
}

TEST_CASE("heapsnap report: exit 2 naming the file for an input it cannot use", "[cli][report]") {
  ReportFiles files;
  const std::string corrupt = (files.directory / "corrupt.json").string();
  heapsnap::test::write_text_file(corrupt, "{\"format\": \"heapsnap-snapshot\",\n \"version\": 1,\n \"traces\": [");
  const auto truncated = run_heapsnap({"report", files.first, corrupt, files.last, "-o", files.report});
  CHECK(truncated.exit_code == 2);
  CHECK_THAT(truncated.err, Catch::StartsWith("heapsnap: error: " + corrupt + ": line 3, column 13 (byte 59): truncated JSON"));
  CHECK_FALSE(std::filesystem::exists(files.report));

  const std::string missing = (files.directory / "missing.json").string();
  const auto absent = run_heapsnap({"report", missing, "-o", files.report});
  CHECK(absent.exit_code == 2);
  CHECK_THAT(absent.err, Catch::StartsWith("heapsnap: error: " + missing + ": "));
  CHECK_FALSE(std::filesystem::exists(files.report));

  const std::string bad_version = (files.directory / "v2.json").string();
  heapsnap::test::write_text_file(bad_version, "{\"format\": \"heapsnap-snapshot\", \"version\": 2}");
  const auto version = run_heapsnap({"report", bad_version, "-o", files.report});
  CHECK(version.exit_code == 2);
  CHECK_THAT(version.err, Catch::StartsWith("heapsnap: error: " + bad_version + ": /version: "));

  const auto no_output = run_heapsnap({"report", files.first});
  CHECK(no_output.exit_code == 2);
  CHECK_THAT(no_output.err, Catch::Contains("--output"));
  const auto no_input = run_heapsnap({"report", "-o", files.report});
  CHECK(no_input.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(files.report));

  const auto no_directory = run_heapsnap({"report", files.first, "-o", (files.directory / "nope" / "r.html").string()});
  CHECK(no_directory.exit_code == 2);
  CHECK_THAT(no_directory.err, Catch::StartsWith("heapsnap: error: " + (files.directory / "nope" / "r.html").string()));
}
