// The HTML report's page model (reporters/html/html_report.h, flame_tree.h) and page (html_page.h): the
// flame tree's sums, the choice of the peak and the end, the leaks, and what hostile names become.

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "reporters/html/flame_tree.h"
#include "reporters/html/html_assets.h"
#include "reporters/html/html_page.h"
#include "reporters/html/html_report.h"
#include "snapshot/utf8.h"
#include "test/support/snapshot_factory.h"

using namespace heapsnap;
using namespace heapsnap::test;

namespace {

const Frame kMain = frame("src/main.cpp", 40, "main");
const Frame kServe = frame("src/server.cpp", 12, "serve");
const Frame kCache = frame("src/cache.cpp", 7, "Cache::put");
const Frame kParse = frame("src/parse.cpp", 3, "parse");

// The child of `node` for `frame`, which the test expects to be there.
const FlameNode& child(const FlameNode& node, const FrameTable& frames, const Frame& frame) {
  const auto found = std::find_if(node.children.begin(), node.children.end(),
                                  [&](const FlameNode& c) { return frames.frames().at(c.frame) == frame; });
  REQUIRE(found != node.children.end());
  return *found;
}

Snapshot timed(Snapshot snapshot, std::int64_t unix_time_ms, std::uint64_t traced_current) {
  snapshot.process.unix_time_ms = unix_time_ms;
  snapshot.traced_current = traced_current;
  snapshot.traced_peak = traced_current;
  return snapshot;
}

std::string render(HtmlReport report) {
  std::ostringstream out;
  HtmlReportReporter(std::move(report)).render(out);
  return out.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The JSON object embedded in the page, as the page's script reads it.
nlohmann::json embedded_data(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const std::size_t start = page.find(open);
  REQUIRE(start != std::string::npos);
  const std::size_t end = page.find("</script>", start);
  REQUIRE(end != std::string::npos);
  return nlohmann::json::parse(page.substr(start + open.size(), end - start - open.size()));
}

bool valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace

TEST_CASE("flame tree: every node's size is its own allocations plus its children's", "[html]") {
  const Snapshot snapshot = SnapshotBuilder()
                                .traceback_limit(3)
                                .add(0, 1000, stack({kCache, kServe, kMain}), 4)
                                .add(1, 24, stack({kCache, kServe, kMain}), 1)  // another domain: added in
                                .add(0, 300, stack({kParse, kServe, kMain}), 3)
                                .add(0, 50, stack({kServe, kMain}), 2)          // allocated in serve itself
                                .add(0, 7, stack({}), 1)                         // no stack: "<unknown>"
                                .add(0, 64, stack({kCache, kServe, kParse}, 20), 1)  // cut at the traceback limit
                                .add(0, 16, stack({kMain}, 5), 1)  // library frames dropped: nothing older is missing
                                .build();
  FrameTable frames;
  const FlameNode root = build_flame_tree(snapshot, frames);

  const std::uint64_t traced = std::accumulate(snapshot.traces.begin(), snapshot.traces.end(), std::uint64_t{0},
                                               [](std::uint64_t sum, const Trace& t) { return sum + t.size; });
  CHECK(root.size == traced);
  CHECK(root.size == 1461);
  CHECK(root.count == 13);
  CHECK(root.self_size == 0);
  CHECK(root.sums_add_up());

  const FlameNode& main = child(root, frames, kMain);
  CHECK(main.size == 1390);
  CHECK(main.count == 11);
  CHECK(main.self_size == 16);
  const FlameNode& serve = child(main, frames, kServe);
  CHECK(serve.size == 1374);
  CHECK(serve.self_size == 50);
  CHECK(serve.self_count == 2);
  REQUIRE(serve.children.size() == 2);
  CHECK(frames.frames().at(serve.children[0].frame) == kCache);  // biggest first
  CHECK(serve.children[0].size == 1024);
  CHECK(serve.children[0].count == 5);
  CHECK(serve.children[1].size == 300);

  // The truncated stack hangs under its own root, not under main; the empty one is "<unknown>".
  const FlameNode& older = child(root, frames, older_frames_not_captured());
  CHECK(child(child(child(older, frames, kParse), frames, kServe), frames, kCache).size == 64);
  CHECK(child(root, frames, frame("<unknown>", 0)).size == 7);

  // Each frame is stored once, however many nodes name it.
  CHECK(frames.frames().size() == 6);

  // A node that does not add up is told apart.
  FlameNode broken = root;
  broken.children[0].children[0].size += 1;
  CHECK_FALSE(broken.sums_add_up());
}

TEST_CASE("report model: snapshots in time order, the peak is the largest, the end the last", "[html]") {
  const Snapshot small = SnapshotBuilder().add(0, 100, stack({kCache, kMain})).build();
  const Snapshot big = SnapshotBuilder().add(0, 5000, stack({kCache, kMain})).add(0, 10, stack({kParse, kMain})).build();
  std::vector<ReportInput> inputs = {
      {"run.json", timed(small, 3000, 100)},        // the exit snapshot, given first
      {"run.snap-2.json", timed(big, 2000, 5010)},
      {"run.snap-1.json", timed(small, 1000, 100)},
      {"run.snap-3.json", timed(big, 2000, 5010)},  // same time and size as snap-2: argument order decides
  };
  const HtmlReport report = build_html_report(inputs, "");
  REQUIRE(report.series.size() == 4);
  CHECK(report.series[0].path == "run.snap-1.json");
  CHECK(report.series[1].path == "run.snap-2.json");
  CHECK(report.series[2].path == "run.snap-3.json");
  CHECK(report.series[3].path == "run.json");
  CHECK(report.peak == 1);  // the first of the two largest
  CHECK(report.end == 3);
  REQUIRE(report.views.size() == 2);
  CHECK(report.views[report.peak_view].snapshot == 1);
  CHECK(report.views[report.peak_view].tree.size == 5010);
  CHECK(report.views[report.end_view].snapshot == 3);
  CHECK(report.views[report.end_view].tree.size == 100);
  CHECK(report.views[report.peak_view].sites.size() == 2);
  CHECK(report.views[report.peak_view].sites[0].size == 5000);
  CHECK(report.title == "heapsnap report");  // no argv to name the program by

  SECTION("when the last snapshot is the largest there is one view") {
    const HtmlReport growing = build_html_report({{"a.json", timed(small, 1, 100)}, {"b.json", timed(big, 2, 5010)}}, "T");
    CHECK(growing.peak == 1);
    CHECK(growing.end == 1);
    CHECK(growing.views.size() == 1);
    CHECK(growing.peak_view == growing.end_view);
    CHECK(growing.title == "T");
  }
  SECTION("one snapshot is both") {
    Snapshot only = small;
    only.process.argv = {"/usr/bin/app", "--flag"};
    const HtmlReport single = build_html_report({{"x.json", only}}, "");
    CHECK(single.peak == 0);
    CHECK(single.end == 0);
    CHECK(single.title == "heapsnap report: app");
  }
  CHECK_THROWS_AS(build_html_report({}, ""), std::invalid_argument);
}

TEST_CASE("report model: the leaks and cycles of the last leak-analysed snapshot", "[html]") {
  Snapshot analysed = heapsnap::test::snapshot_with_cycles();
  const Snapshot running = SnapshotBuilder().add(0, 100, stack({kCache, kMain})).build();
  const HtmlReport report = build_html_report({{"i.snap-1.json", timed(running, 1, 100)}, {"i.json", timed(analysed, 2, 50)}}, "");
  REQUIRE(report.leaks.has_value());
  const nlohmann::json data = page_data(report);
  const nlohmann::json& leaks = data["leaks"];
  CHECK(leaks["snapshot"] == 1);
  // snapshot_with_cycles: 6 cycles of 11 blocks (528 B) and 2 plain leaks (128 B).
  CHECK(leaks["size"] == 656);
  CHECK(leaks["count"] == 13);
  CHECK(leaks["cycle_count"] == 6);
  REQUIRE(leaks["cycles"].size() == 3);
  CHECK(leaks["cycles"][0]["headline"] ==
        "3 cycles of 2 blocks (96 B each): block at src/node.cpp:31 (make_node) ↔ block at src/node.cpp:31 (make_node)");
  CHECK(leaks["cycles"][0]["members"].get<std::string>().find("points to block 2 (offsets 16, 24)") != std::string::npos);
  const auto plain = std::find_if(leaks["sites"].begin(), leaks["sites"].end(),
                                  [](const nlohmann::json& site) { return site["kind"] == "direct"; });
  REQUIRE(plain != leaks["sites"].end());
  CHECK((*plain)["size"] == 128);
  CHECK((*plain)["count"] == 2);
  REQUIRE((*plain)["stack"].size() == 1);
  CHECK(data["frames"][(*plain)["stack"][0].get<std::size_t>()] == nlohmann::json::array({"leak_plain", "src/plain.cpp", 9}));

  SECTION("an interval snapshot written after the exit snapshot does not hide its leaks") {
    const HtmlReport later = build_html_report(
        {{"i.json", timed(analysed, 2, 50)}, {"i.snap-1.json", timed(running, 1, 100)}, {"i.snap-2.json", timed(running, 3, 100)}}, "");
    CHECK(later.end == 2);
    REQUIRE(later.leaks.has_value());
    CHECK(later.leaks_snapshot == 1);
    CHECK(later.leaks->snapshot_path == "i.json");
    CHECK(page_data(later)["leaks"]["snapshot"] == 1);
  }
  SECTION("no leak list when no snapshot was analysed") {
    const HtmlReport unanalysed = build_html_report({{"i.snap-1.json", timed(running, 2, 100)}}, "");
    CHECK_FALSE(unanalysed.leaks.has_value());
    CHECK(page_data(unanalysed)["leaks"].is_null());
  }
}

TEST_CASE("page data: the tree as [frame, size, count, children] and the sites by frame", "[html]") {
  const Snapshot snapshot = SnapshotBuilder().add(0, 700, stack({kCache, kMain}), 7).add(0, 300, stack({kParse, kMain}), 1).build();
  const nlohmann::json data = page_data(build_html_report({{"x.json", timed(snapshot, 5, 1000)}}, ""));
  CHECK(data["format"] == "heapsnap-html-report");
  CHECK(data["version"] == 1);
  const nlohmann::json& view = data["views"][0];
  CHECK(view["size"] == 1000);
  const nlohmann::json& tree = view["tree"];
  CHECK(tree[0] == -1);
  CHECK(tree[1] == 1000);
  CHECK(tree[2] == 8);
  const nlohmann::json& main = tree[3][0];
  CHECK(data["frames"][main[0].get<std::size_t>()][0] == "main");
  CHECK(main[1] == 1000);
  CHECK(main[3].size() == 2);
  CHECK(main[3][0][1] == 700);
  CHECK(main[3][0].size() == 3);  // a leaf has no children array
  REQUIRE(view["sites"].size() == 2);
  CHECK(data["frames"][view["sites"][0][0].get<std::size_t>()][0] == "Cache::put");
  CHECK(view["sites"][0][1] == 700);
  CHECK(view["sites"][0][2] == 7);
  CHECK(data["snapshots"][0]["traced_current"] == 1000);
  CHECK(data["snapshots"][0]["unix_time_ms"] == 5);
}

TEST_CASE("page data: a leak's stack says how many older frames the traceback limit cut off", "[html]") {
  const Snapshot snapshot = SnapshotBuilder()
                                .traceback_limit(2)
                                .leak_analysis(true)
                                .add(0, 64, stack({kCache, kServe}, 9), 1, Reachability::Direct)  // full, 7 cut
                                .add(0, 32, stack({kParse}, 4), 1, Reachability::Direct)  // 3 library frames dropped
                                .build();
  const nlohmann::json data = page_data(build_html_report({{"x.json", timed(snapshot, 1, 96)}}, ""));
  const nlohmann::json& sites = data["leaks"]["sites"];
  REQUIRE(sites.size() == 2);
  CHECK(sites[0]["size"] == 64);
  CHECK(sites[0]["frames_not_captured"] == 7);
  CHECK(sites[1]["frames_not_captured"] == 0);
  CHECK(data["snapshots"][0]["traceback_limit"] == 2);
}

TEST_CASE("hostile names cannot end the script element or break the page", "[html]") {
  const std::string hostile = "evil</script><script>alert(\"x\")</script><!-- 'q' & \xff\xfe end";
  const Snapshot snapshot = SnapshotBuilder()
                                .leak_analysis(true)
                                .add(0, 64, stack({frame("src/</SCRIPT>.cpp", 1, hostile), kMain}), 1, Reachability::Direct)
                                .build();
  Snapshot named = timed(snapshot, 1, 64);
  named.process.argv = {"</script>", "\xc3\x28"};
  const std::string page = render(build_html_report({{"a</script>.json", named}}, "<b>\"T\" & 'U'</b>\xff"));

  // The three script elements of the template close, and nothing else does.
  CHECK(occurrences(page, "</script>") == 3);
  CHECK(occurrences(page, "</SCRIPT>") == 0);
  CHECK(occurrences(page, "<script>alert") == 0);
  CHECK(occurrences(page, "<!-- 'q'") == 0);
  CHECK(valid_utf8(page));
  // The title in <title> and <h1> as text.
  CHECK(occurrences(page, "<title>&lt;b&gt;&quot;T&quot; &amp; &#39;U&#39;&lt;/b&gt;\xEF\xBF\xBD</title>") == 1);
  CHECK(occurrences(page, "<h1>&lt;b&gt;&quot;T&quot; &amp; &#39;U&#39;&lt;/b&gt;\xEF\xBF\xBD</h1>") == 1);

  // The data still says exactly what the snapshot said, invalid bytes as U+FFFD.
  const nlohmann::json data = embedded_data(page);
  const std::string shown = "evil</script><script>alert(\"x\")</script><!-- 'q' & \xEF\xBF\xBD\xEF\xBF\xBD end";
  const auto& frames = data["frames"];
  CHECK(std::any_of(frames.begin(), frames.end(), [&](const nlohmann::json& f) {
    return f[0] == shown && f[1] == "src/</SCRIPT>.cpp";
  }));
  CHECK(data["snapshots"][0]["file"] == "a</script>.json");
  CHECK(data["argv"] == nlohmann::json::array({"</script>", "\xEF\xBF\xBD("}));
  CHECK(data["title"] == "<b>\"T\" & 'U'</b>\xEF\xBF\xBD");
}

TEST_CASE("escape_html and script_safe_json", "[html]") {
  CHECK(escape_html("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  CHECK(escape_html("caf\xc3\xa9 \xe2\x86\x94") == "caf\xc3\xa9 \xe2\x86\x94");   // valid UTF-8 stays
  CHECK(escape_html("\xc3") == "\xEF\xBF\xBD");                                  // cut sequence
  CHECK(escape_html("\xed\xa0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate is not UTF-8
  const nlohmann::ordered_json value = {{"</script>", "a<b>&c"}};
  const std::string text = script_safe_json(value);
  CHECK(text == R"({"\u003c/script\u003e":"a\u003cb\u003e\u0026c"})");
  CHECK(nlohmann::ordered_json::parse(text) == value);
}

TEST_CASE("the compiled-in assets are whole and cannot close their own elements", "[html]") {
  CHECK(html_assets::kTemplate.starts_with("<!DOCTYPE html>"));
  CHECK(html_assets::kTemplate.find("{{DATA}}") != std::string_view::npos);
  CHECK(html_assets::kScript.find("renderFlame") != std::string_view::npos);
  CHECK(html_assets::kScript.ends_with("})();\n"));
  CHECK(html_assets::kStyle.find(".frame") != std::string_view::npos);
  // Inline in the page: the script must not contain "</script" nor the style "</style".
  CHECK(html_assets::kScript.find("</script") == std::string_view::npos);
  CHECK(html_assets::kScript.find("<!--") == std::string_view::npos);
  CHECK(html_assets::kStyle.find("</style") == std::string_view::npos);
}
