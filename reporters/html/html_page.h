#pragma once
// Renders the page model (html_report.h) as one self-contained HTML file: the template, style and
// script compiled into the binary (reporters/html/, see html_assets.h) and the model as one JSON object
// in a <script type="application/json"> element, which the script draws from. The page loads nothing.
//
// Names in snapshots are arbitrary bytes (paths, symbols): the page gets them only through that JSON,
// with invalid UTF-8 replaced by U+FFFD and every '<', '>' and '&' as a \u escape, so that no name can
// end the script element or start markup; the script puts them into the page as text, never as HTML.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reporters/html/html_report.h"
#include "reporters/reporter.h"

namespace heapsnap {

inline constexpr std::string_view kHtmlReportDataFormat = "heapsnap-html-report";
inline constexpr int kHtmlReportDataVersion = 1;

// The JSON object the page's script reads (docs/html-report.md#the-embedded-data).
nlohmann::ordered_json page_data(const HtmlReport& report);

// `data` as JSON text that can stand inside a <script> element: valid UTF-8, no '<', '>' or '&'.
std::string script_safe_json(const nlohmann::ordered_json& data);

// `text` for HTML text and quoted attribute values: & < > " ' as character references, invalid UTF-8
// as U+FFFD.
std::string escape_html(std::string_view text);

class HtmlReportReporter final : public Reporter {
 public:
  explicit HtmlReportReporter(HtmlReport report);
  void render(std::ostream& out) const override;

 private:
  HtmlReport report_;
};

}  // namespace heapsnap
