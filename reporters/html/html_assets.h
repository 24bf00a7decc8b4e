#pragma once
// The HTML report's template, script and style (reporters/html/), compiled into the binary by
// cmake/embed_files.cmake so that an installed heapsnap needs no data files.

#include <string_view>

namespace heapsnap::html_assets {

extern const std::string_view kTemplate;  // report.html: {{TITLE}}, {{STYLE}}, {{DATA}}, {{SCRIPT}}
extern const std::string_view kScript;    // report.js
extern const std::string_view kStyle;     // report.css

}  // namespace heapsnap::html_assets
