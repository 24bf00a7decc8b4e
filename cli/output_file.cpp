#include "cli/output_file.h"

#include <filesystem>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "snapshot/file_io.h"

namespace heapsnap::cli {

namespace {
constexpr const char* kForceHint = " (use --force to replace it)";
}

void add_force_option(CLI::App& app, OutputFile& output) {
  app.add_flag("--force", output.force, "Replace the -o file if it exists");
}

void refuse_existing_output(const OutputFile& output) {
  if (!output.force && std::filesystem::exists(std::filesystem::symlink_status(output.path))) {
    throw UsageError(output.path + ": already exists" + kForceHint);
  }
}

void write_output(const OutputFile& output, const std::function<void(std::ostream&)>& write) {
  try {
    write_file_atomically(output.path, write, output.force ? ExistingFile::Replace : ExistingFile::Keep);
  } catch (const FileExistsError& error) {
    throw UsageError(error.what() + std::string(kForceHint));
  } catch (const std::runtime_error& error) {
    throw UsageError(error.what());
  }
}

}  // namespace heapsnap::cli
