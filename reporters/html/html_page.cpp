#include "reporters/html/html_page.h"

#include <sstream>
#include <stdexcept>

#include "reporters/html/html_assets.h"
#include "reporters/leaks/cycle_format.h"
#include "snapshot/utf8.h"

namespace heapsnap {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// [frame, size, count] and, for inner nodes, [..., [children]]; the root's frame is -1.
Json tree_to_json(const FlameNode& node, bool root) {
  Json json = Json::array({root ? Json(-1) : Json(node.frame), node.size, node.count});
  if (!node.children.empty()) {
    Json children = Json::array();
    for (const FlameNode& child : node.children) children.push_back(tree_to_json(child, false));
    json.push_back(std::move(children));
  }
  return json;
}

// Frame indices, most recent first.
Json stack_to_json(const Traceback& traceback, FrameTable& frames) {
  Json stack = Json::array();
  for (const Frame& frame : traceback.frames) stack.push_back(frames.intern(frame));
  return stack;
}

// Older frames lost at the traceback limit, by the flame tree's rule (see cut_at_limit).
std::uint64_t frames_not_captured(const Traceback& traceback, std::uint32_t traceback_limit) {
  return cut_at_limit(traceback, traceback_limit) ? traceback.total_nframe - traceback.frames.size() : 0;
}

Json view_to_json(const HeapView& view, FrameTable& frames) {
  Json sites = Json::array();
  for (const Statistic& site : view.sites) {
    sites.push_back(Json::array({frames.intern(analysed_frames(site.traceback).front()), site.size, site.count}));
  }
  const bool counts_allocations = view.measure == "calls" || view.measure == "temporary";
  return {{"measure", view.measure},
          {"unit", counts_allocations ? "allocations" : "bytes"},
          {"snapshot", view.snapshot},
          {"size", view.tree.size},
          {"count", view.tree.count},
          {"tree", tree_to_json(view.tree, true)},
          {"sites", std::move(sites)},
          {"total_sites", view.total_sites}};
}

Json leaks_to_json(const LeakReport& leaks, std::size_t total_sites, std::size_t snapshot, std::uint32_t traceback_limit,
                   FrameTable& frames) {
  Json sites = Json::array();
  for (const LeakSite& site : leaks.leaks) {
    sites.push_back({{"kind", leak_kind_name(site.kind)},
                     {"size", site.size},
                     {"count", site.count},
                     {"stack", stack_to_json(site.traceback, frames)},
                     {"frames_not_captured", frames_not_captured(site.traceback, traceback_limit)}});
  }
  Json cycles = Json::array();
  for (const LeakedCycles& leaked : leaks.cycles) {
    std::ostringstream members;
    write_shape_members(members, leaked.shape, "");
    cycles.push_back({{"headline", describe_shape(leaked.shape)},
                      {"count", leaked.shape.count()},
                      {"blocks", leaked.shape.blocks()},
                      {"bytes", leaked.shape.bytes},
                      {"members", members.str()}});
  }
  return {{"snapshot", snapshot},
          {"size", leaks.totals.size},
          {"count", leaks.totals.count},
          {"cycle_count", leaks.totals.cycles},
          {"total_sites", total_sites},
          {"sites", std::move(sites)},
          {"cycles", std::move(cycles)}};
}

// Replaces each {{NAME}} of `page` by its value, in one pass: a value that contains "{{TITLE}}" stays as it is.
std::string expand(std::string_view page, const std::vector<std::pair<std::string_view, std::string_view>>& values) {
  std::string out;
  out.reserve(page.size());
  for (std::size_t at = 0; at < page.size();) {
    const std::size_t open = page.find("{{", at);
    if (open == std::string_view::npos) {
      out += page.substr(at);
      break;
    }
    out += page.substr(at, open - at);
    const std::size_t close = page.find("}}", open);
    if (close == std::string_view::npos) throw std::logic_error("report.html: unterminated {{ placeholder");
    const std::string_view name = page.substr(open + 2, close - open - 2);
    bool found = false;
    for (const auto& [key, value] : values) {
      if (key != name) continue;
      out += value;
      found = true;
    }
    if (!found) throw std::logic_error("report.html: unknown placeholder {{" + std::string(name) + "}}");
    at = close + 2;
  }
  return out;
}

}  // namespace

Json page_data(const HtmlReport& report) {
  FrameTable frames = report.frames;  // leak stacks add theirs
  Json snapshots = Json::array();
  for (const SeriesPoint& point : report.series) {
    snapshots.push_back({{"file", point.path},
                         {"reason", point.reason},
                         {"unix_time_ms", point.unix_time_ms},
                         {"traced_current", point.traced_current},
                         {"traced_peak", point.traced_peak},
                         {"sampling_rate", point.sampling_rate},
                         {"traceback_limit", point.traceback_limit},
                         {"leak_analysis", point.leak_analysis}});
  }
  Json views = Json::array();
  for (const HeapView& view : report.views) views.push_back(view_to_json(view, frames));
  Json leaks = report.leaks ? leaks_to_json(*report.leaks, report.total_leak_sites, report.leaks_snapshot,
                                      report.series[report.leaks_snapshot].traceback_limit, frames) : Json(nullptr);

  Json frame_list = Json::array();
  for (const Frame& frame : frames.frames()) frame_list.push_back(Json::array({frame.function, frame.filename, frame.lineno}));
  return {{"format", kHtmlReportDataFormat},
          {"version", kHtmlReportDataVersion},
          {"title", report.title},
          {"argv", report.argv},
          {"snapshots", std::move(snapshots)},
          {"peak", report.peak},
          {"end", report.end},
          {"frames", std::move(frame_list)},
          {"views", std::move(views)},
          {"peak_view", report.peak_view},
          {"end_view", report.end_view},
          {"leaks", std::move(leaks)}};
}

std::string script_safe_json(const Json& data) {
  const std::string text = data.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  // '<', '>' and '&' occur only inside JSON strings, where the escape means the same character.
  for (const char c : text) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += kReplacementCharacter;
      ++i;
      continue;
    }
    if (length == 1) {
      switch (text[i]) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += text[i];
      }
    } else {
      out += text.substr(i, length);
    }
    i += length;
  }
  return out;
}

HtmlReportReporter::HtmlReportReporter(HtmlReport report) : report_(std::move(report)) {}

void HtmlReportReporter::render(std::ostream& out) const {
  const std::string title = escape_html(report_.title);
  const std::string data = script_safe_json(page_data(report_));
  out << expand(html_assets::kTemplate, {{"TITLE", title},
                                         {"STYLE", html_assets::kStyle},
                                         {"DATA", data},
                                         {"SCRIPT", html_assets::kScript}});
}

}  // namespace heapsnap
