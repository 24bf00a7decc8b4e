#include "cli/common_options.h"

#include <map>

#include <CLI/CLI.hpp>

#include "cli/command.h"

namespace heapsnap::cli {

void add_format_option(CLI::App& app, OutputFormat& format) {
  const std::map<std::string, OutputFormat> names{{"text", OutputFormat::Text}, {"json", OutputFormat::Json}};
  app.add_option("--format", format, "Report format: text or json (default: text)")
      ->transform(CLI::CheckedTransformer(names))
      ->option_text("text|json");
}

void add_group_by_option(CLI::App& app, GroupBy& group_by) {
  const std::map<std::string, GroupBy> names{
      {"lineno", GroupBy::Lineno}, {"filename", GroupBy::Filename}, {"traceback", GroupBy::Traceback}};
  app.add_option("--by", group_by,
                 "Group allocations by source line (lineno, default), file (filename), or whole stack "
                 "(traceback)")
      ->transform(CLI::CheckedTransformer(names))
      ->option_text("lineno|filename|traceback");
}

void add_limit_option(CLI::App& app, std::size_t& limit) {
  app.add_option("--limit", limit, "Entries to show, the rest summed up (default 10; 0 shows all)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
}

void add_statistics_options(CLI::App& app, StatisticsReportOptions& options) {
  add_group_by_option(app, options.group_by);
  add_limit_option(app, options.limit);
  app.add_flag("--cumulative", options.cumulative,
               "Count each allocation in every frame of its stack, not only the most recent one");
}

void check_statistics_options(const StatisticsReportOptions& options) {
  if (options.cumulative && options.group_by == GroupBy::Traceback) {
    throw UsageError("--cumulative cannot be used with --by traceback");
  }
}

void add_measure_option(CLI::App& app, Measure& measure) {
  std::map<std::string, Measure> names;
  for (Measure m : {Measure::Live, Measure::Allocated, Measure::Calls, Measure::Temporary, Measure::Peak})
    names.emplace(std::string(measure_name(m)), m);
  app.add_option("--sort", measure,
                 "Rank groups by live bytes (live, default: tracemalloc's order), bytes allocated since tracing started "
                 "(allocated), allocation calls (calls), temporary allocations (temporary) or bytes at the peak (peak)")
      ->transform(CLI::CheckedTransformer(names))
      ->option_text("live|allocated|calls|temporary|peak");
}

void check_measure(Measure measure, const StatisticsReportOptions& options, const Snapshot& snapshot, const std::string& path) {
  if (measure == Measure::Live) return;
  if (options.cumulative) throw UsageError("--cumulative counts live memory only: not with --sort " + std::string(measure_name(measure)));
  if (snapshot.activity.empty() && !snapshot.traces.empty())
    throw UsageError(path + ": the snapshot has no per-site allocation activity (written by an older heapsnap, or while "
                            "sampling): --sort " + std::string(measure_name(measure)) + " needs it");
}

}  // namespace heapsnap::cli
