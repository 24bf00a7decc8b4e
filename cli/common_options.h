#pragma once
// Options and helpers shared by the report commands: --by, --limit, --cumulative, --format.

#include <cstddef>
#include <string>

#include "reporters/report_options.h"
#include "snapshot/site_statistics.h"
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

// --sort live|allocated|calls|temporary|peak: what stats and diff rank groups by.
void add_measure_option(CLI::App& app, Measure& measure);
// For a measure other than live: rejects --cumulative, and a snapshot without per-site activity
// (written by an older heapsnap, or while sampling), naming its file (UsageError).
void check_measure(Measure measure, const StatisticsReportOptions& options, const Snapshot& snapshot, const std::string& path);

}  // namespace heapsnap::cli
