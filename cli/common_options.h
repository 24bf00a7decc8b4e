#pragma once
// Options and helpers shared by the report commands: --by, --limit, --cumulative, --format.

#include <cstddef>
#include <string>

#include "reporters/report_options.h"
#include "snapshot/statistics.h"

namespace CLI {
class App;
}

namespace heapsnap::cli {

enum class OutputFormat { Text, Json };

void add_format_option(CLI::App& app, OutputFormat& format);
// --by lineno|filename|traceback, and --limit N (0: all).
void add_group_by_option(CLI::App& app, GroupBy& group_by);
void add_limit_option(CLI::App& app, std::size_t& limit);
// --by, --limit and --cumulative into `options`.
void add_statistics_options(CLI::App& app, StatisticsReportOptions& options);
// Rejects --cumulative with --by traceback (UsageError), as tracemalloc does.
void check_statistics_options(const StatisticsReportOptions& options);

}  // namespace heapsnap::cli
