#pragma once
// The -o FILE / --force pair of the commands that write a report or an export: an existing file is
// refused before any work is done (unless --force), and the file is written atomically, so a failed
// or interrupted run never leaves it half-written.

#include <functional>
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace heapsnap::cli {

struct OutputFile {
  std::string path;
  bool force = false;
};

// --force: replace the -o file if it exists.
void add_force_option(CLI::App& app, OutputFile& output);

// Throws UsageError when the file exists and --force was not given. Call before the work begins.
void refuse_existing_output(const OutputFile& output);

// Writes what `write` produces to the file (write_file_atomically). Throws UsageError naming the file
// when it cannot be written, and suggests --force when it appeared since refuse_existing_output.
void write_output(const OutputFile& output, const std::function<void(std::ostream&)>& write);

}  // namespace heapsnap::cli
