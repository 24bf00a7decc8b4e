#pragma once
// Options and helpers shared by the report commands: --by, --limit, --cumulative, --format.

#include <string>

#include "profiler/statistics.h"
#include "reporters/report_options.h"

namespace CLI {
class App;
}

namespace heapsnap::cli {

enum class OutputFormat { Text, Json };

void add_format_option(CLI::App& app, OutputFormat& format);
// --by, --limit and --cumulative into `options`.
void add_statistics_options(CLI::App& app, StatisticsReportOptions& options);
// Rejects --cumulative with --by traceback (UsageError), as tracemalloc does.
void check_statistics_options(const StatisticsReportOptions& options);

}  // namespace heapsnap::cli
