#pragma once
// What every test of the command line starts from: the heapsnap binary run as a user runs it, snapshot
// files written from synthetic snapshots into a temporary directory, and their JSON output.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "snapshot/snapshot_json.h"
#include "test/support/process_runner.h"
#include "test/support/snapshot_factory.h"
#include "test/support/temp_directory.h"

// Test files only: the names every test here uses, unqualified.
using namespace heapsnap;
using heapsnap::test::frame;
using heapsnap::test::ProcessOptions;
using heapsnap::test::ProcessResult;
using heapsnap::test::read_text_file;
using heapsnap::test::run_heapsnap;
using heapsnap::test::SnapshotBuilder;
using heapsnap::test::stack;
using heapsnap::test::TempDirectory;
using heapsnap::test::write_text_file;

// Each command line is refused as a usage or input error: status 2, one "heapsnap: error: ..." on
// stderr, nothing on stdout.
inline void check_refused(const std::vector<std::vector<std::string>>& command_lines) {
  for (const auto& arguments : command_lines) {
    std::string shown;
    for (const auto& argument : arguments) shown += argument + " ";
    INFO("heapsnap " << shown);
    const auto result = run_heapsnap(arguments);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::StartsWith("heapsnap: error: "));
    CHECK(result.out.empty());
  }
}
