"""`heapsnap report` in a real browser: reports of real profiled runs (the growing_cache and cycles
samples), opened in headless Chromium. The page must render without a script error, plot a point per
snapshot, draw the growth site in the flame graph, list the sites `heapsnap stats` lists and the leaks
`heapsnap check` finds; the URL fragment, clicks, mouse moves and typing must drive it.

Paths come from the environment set by ctest (see CMakeLists.txt next to this file).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import tracemalloc
import unittest
from pathlib import Path

import browser

HEAPSNAP = os.environ["HEAPSNAP_BIN"]
SAMPLES = Path(os.environ["HEAPSNAP_SAMPLES_BIN"])
SOURCE = Path(os.environ["HEAPSNAP_SOURCE_DIR"])


def line_of_code(source: Path, marker: str) -> int:
    """The line of `source` whose code carries the comment `marker`, so tests never hard-code line numbers."""
    for number, text in enumerate(source.read_text().splitlines(), start=1):
        if marker in text and not text.lstrip().startswith("//"):
            return number
    raise AssertionError(f"no code line marked {marker!r} in {source}")


def heapsnap(*args, cwd):
    result = subprocess.run([HEAPSNAP, *args], cwd=cwd, capture_output=True, timeout=120, check=False)
    if result.returncode != 0:
        raise AssertionError(f"heapsnap {' '.join(args)} exited {result.returncode}: {result.stderr.decode()}")
    return result.stdout.decode()


def frame_text(frame):
    """A frame as the page and the text reports print it: "file:line (function)"."""
    text = frame["filename"] + (f":{frame['lineno']}" if frame["lineno"] else "")
    return text + (f" ({frame['function']})" if frame["function"] else "")


def traces_through(snapshot, predicate):
    """Bytes of the traces of a snapshot file with a frame for which `predicate` holds."""
    frames, tracebacks = snapshot["frames"], snapshot["tracebacks"]
    return sum(trace["size"] for trace in snapshot["traces"]
               if any(predicate(frames[i]) for i in tracebacks[trace["traceback"]]["frames"]))


def open_report(url):
    """The report in a live page, once its scripts ran and its flame graph is drawn for the window's
    width: a resize that arrives late (a loaded machine) redraws it, replacing what a click aims at."""
    page = browser.DevTools(url)
    try:
        page.wait_for("document.documentElement.getAttribute('data-rendered')")
        page.wait_for("(() => { const svg = document.getElementById('flame-svg');"
                      " return svg !== null && Number(svg.getAttribute('width')) ==="
                      " Math.max(document.getElementById('flamegraph').clientWidth, 480); })()")
    except BaseException:
        page.close()
        raise
    return page


class ReportTestCase(unittest.TestCase):
    """Profiles a program once per class and writes its report."""

    @classmethod
    def profile(cls, program, *args, interval=None):
        cls.dir = Path(tempfile.mkdtemp(prefix="heapsnap-html-"))
        extra = ["--interval", str(interval)] if interval else []
        heapsnap("run", "--quiet", "-o", "run.json", *extra, "--", str(SAMPLES / program), *args, cwd=cls.dir)
        numbered = sorted(cls.dir.glob("run.snap-*.json"), key=lambda p: int(p.name.split("-")[1].split(".")[0]))
        cls.files = [*numbered, cls.dir / "run.json"]
        loaded = [json.loads(path.read_text()) for path in cls.files]
        # The report's order: by the time taken, then by argument order (sorted() is stable).
        cls.snapshots = sorted(loaded, key=lambda snapshot: snapshot["process"]["unix_time_ms"])
        currents = [snapshot["memory"]["current"] for snapshot in cls.snapshots]
        cls.peak = currents.index(max(currents))
        cls.report = cls.dir / "report.html"
        heapsnap("report", *map(str, cls.files), "-o", str(cls.report), cwd=cls.dir)
        cls.url = cls.report.as_uri()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assert_rendered_without_errors(self, dom):
        page = dom.find_all("html")[0]
        self.assertEqual(page.get("data-js-errors"), "[]")
        self.assertEqual(page.get("data-rendered"), "true")

    def flame_frames(self, dom):
        return dom.by_id("flame-svg").find_all("g", lambda e: "frame" in e.classes())


class GrowingCacheReport(ReportTestCase):
    @classmethod
    def setUpClass(cls):
        cls.profile("growing_cache", "10", "15", interval=20)  # 10 phases 15 ms apart, then a shutdown
        cls.dom = browser.dump_dom(cls.url)
        cls.growth_line = line_of_code(SOURCE / "samples" / "growing_cache.cpp", "GROWTH SITE")

    def test_the_run_left_interval_snapshots(self):
        self.assertGreaterEqual(len(self.files), 2, self.files)

    def test_the_page_renders_without_script_errors(self):
        self.assert_rendered_without_errors(self.dom)

    def test_the_chart_has_a_point_per_snapshot_in_time_order(self):
        points = self.dom.by_id("chart-svg").find_all("circle", lambda e: "point" in e.classes())
        self.assertEqual(len(points), len(self.snapshots))
        self.assertEqual([int(p.get("data-bytes")) for p in points], [s["memory"]["current"] for s in self.snapshots])
        for point, snapshot in zip(points, self.snapshots):
            # Sizes read as the CLI prints them: tracemalloc's format.
            self.assertIn(f"traced {tracemalloc._format_size(snapshot['memory']['current'], False)}, ", point.text())
            self.assertIn(f"peak so far {tracemalloc._format_size(snapshot['memory']['peak'], False)}", point.text())
        marked = [i for i, p in enumerate(points) if "peak-point" in p.classes()]
        self.assertEqual(marked, [self.peak])
        ticks = self.dom.by_id("chart-svg").find_all("g", lambda e: "y-axis" in e.classes())[0].find_all("text")
        self.assertEqual(ticks[0].text(), "0 B")
        self.assertGreaterEqual(len(ticks), 3)

    def test_the_flame_graph_shows_the_growth_site_under_its_callers(self):
        frames = self.flame_frames(self.dom)
        site = [f for f in frames if f"growing_cache.cpp:{self.growth_line} (" in f.get("data-name")]
        self.assertEqual(len(site), 1, [f.get("data-name") for f in frames])
        self.assertIn("remember", site[0].get("data-name"))
        self.assertIn("remember", site[0].text())  # the label drawn on the bar
        peak = self.snapshots[self.peak]
        expected = traces_through(peak, lambda f: f["lineno"] == self.growth_line and "growing_cache.cpp" in f["filename"])
        self.assertEqual(int(site[0].get("data-size")), expected)
        names = [f.get("data-name") for f in frames]
        for caller in ("handle_requests", "(main)"):  # clang's names have the namespace and parameters
            self.assertTrue(any(caller in name for name in names), (caller, names))
        root = [f for f in frames if f.get("data-name") == "all"]
        self.assertEqual(int(root[0].get("data-size")), sum(t["size"] for t in peak["traces"]))

    def test_the_activity_views_draw_the_last_snapshots_allocations(self):
        last = self.snapshots[-1]
        frames, tracebacks = last["frames"], last["tracebacks"]
        at_growth_site = lambda site: any(frames[i]["lineno"] == self.growth_line and "growing_cache.cpp" in frames[i]["filename"]
                                          for i in tracebacks[site["traceback"]]["frames"])
        for view, field in (("allocated", "allocated_size"), ("calls", "calls"), ("temporary", "temporary"),
                            ("peak-sites", "peak_size")):
            dom = browser.dump_dom(self.url + "#view=" + view)
            self.assert_rendered_without_errors(dom)
            pressed = [b.get("data-view") for b in dom.by_id("view-switch").find_all("button") if b.get("aria-pressed") == "true"]
            self.assertEqual(pressed, [view])
            total = sum(site[field] for site in last["activity"])
            if total == 0:
                continue
            frames_drawn = self.flame_frames(dom)
            root = [f for f in frames_drawn if f.get("data-name") == "all"]
            self.assertEqual(int(root[0].get("data-size")), total, view)
            growth = sum(site[field] for site in last["activity"] if at_growth_site(site))
            if growth:
                site = [f for f in frames_drawn if f"growing_cache.cpp:{self.growth_line} (" in f.get("data-name")]
                self.assertEqual(int(site[0].get("data-size")), growth, view)
        # The cache's entries: every one allocated once, at the growth site.
        self.assertGreater(sum(site["calls"] for site in last["activity"] if at_growth_site(site)), 0)

    def test_the_sites_table_lists_what_heapsnap_stats_lists(self):
        peak_file = next(f for f in self.files if json.loads(f.read_text()) == self.snapshots[self.peak])
        stats = json.loads(heapsnap("stats", str(peak_file), "--format", "json", "--limit", "0", cwd=self.dir))
        rows = self.dom.by_id("sites-table").find_all("tbody")[0].find_all("tr")
        self.assertEqual(len(rows), len(stats))
        for row, statistic in zip(rows, stats):
            self.assertEqual(int(row.get("data-size")), statistic["size"])
            self.assertEqual(int(row.get("data-count")), statistic["count"])
            self.assertEqual(row.find_all("td")[0].text(), frame_text(statistic["traceback"][0]))
        self.assertIn(f"growing_cache.cpp:{self.growth_line} (", rows[0].find_all("td")[0].text())

    def test_the_fragment_selects_the_view_search_and_order(self):
        dom = browser.dump_dom(self.url + "#view=end&search=Remember&sort=count&order=ascending")
        self.assert_rendered_without_errors(dom)
        has_end_view = self.peak != len(self.snapshots) - 1
        self.assertEqual(dom.by_id("flame-svg").get("data-view"), "end" if has_end_view else "peak")
        pressed = [b.get("data-view") for b in dom.by_id("view-switch").find_all("button") if b.get("aria-pressed") == "true"]
        self.assertEqual(pressed, ["end" if has_end_view else "peak"])

        # The cache is emptied at shutdown, so its frames are searched for in the peak view.
        dom = browser.dump_dom(self.url + "#view=peak&search=Remember&sort=count&order=ascending")
        self.assertEqual(dom.by_id("flame-svg").get("data-view"), "peak")
        frames = self.flame_frames(dom)
        matched = [f.get("data-name") for f in frames if "match" in f.classes()]
        self.assertTrue(matched)
        self.assertTrue(all("remember" in name.lower() for name in matched), matched)
        self.assertFalse(any("remember" in f.get("data-name").lower() for f in frames if "match" not in f.classes()))
        self.assertIn("frame matches", dom.by_id("match-info").text())

        counts = [int(r.get("data-count")) for r in dom.by_id("sites-table").find_all("tbody")[0].find_all("tr")]
        self.assertEqual(counts, sorted(counts))
        headers = {th.get("data-key"): th.get("aria-sort") for th in dom.by_id("sites-table").find_all("th")}
        self.assertEqual(headers["count"], "ascending")
        self.assertIsNone(headers["size"])

    def test_the_fragment_zooms_into_a_frame(self):
        frames = self.flame_frames(self.dom)
        # "(remember)" from GCC's debug information, "((anonymous namespace)::remember(int))" from clang's.
        site = next(f for f in frames if re.search(r"\((?:\(anonymous namespace\)::)?remember\b", f.get("data-name")))
        dom = browser.dump_dom(f"{self.url}#zoom={site.get('data-id')}")
        self.assert_rendered_without_errors(dom)
        zoomed = self.flame_frames(dom)
        width = float(dom.by_id("flame-svg").get("width"))
        focus = next(f for f in zoomed if f.get("data-id") == site.get("data-id"))
        self.assertEqual(float(focus.find_all("rect")[0].get("width")), width)
        self.assertNotIn("ancestor", focus.classes())
        # Its callers stay above it, marked as such; everything else drawn is below it.
        above = [f for f in zoomed if "ancestor" in f.classes()]
        self.assertTrue(any("handle_requests" in f.get("data-name") for f in above))
        top = float(focus.find_all("rect")[0].get("y"))
        for f in zoomed:
            y = float(f.find_all("rect")[0].get("y"))
            self.assertTrue(y < top if f in above else y >= top, f.get("data-name"))
        self.assertIsNone(dom.by_id("reset-zoom").get("disabled"))
        self.assertIsNotNone(self.dom.by_id("reset-zoom").get("disabled"))

    def test_a_screenshot_is_a_png_of_the_window(self):
        path = self.dir / "report.png"
        browser.screenshot(self.url, str(path))
        data = path.read_bytes()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        self.assertEqual((width, height), tuple(int(n) for n in browser.WINDOW.split(",")))
        self.assertGreater(len(data), 10_000)  # more than a blank page

    def test_clicking_switches_the_view_and_sorts_the_table(self):
        if self.peak == len(self.snapshots) - 1:
            self.fail("the run's last snapshot is its largest: no end view to switch to")
        page = open_report(self.url)
        try:
            page.click_until("#view-switch button[data-view=end]", "location.hash.includes('view=end')")
            self.assertEqual(page.evaluate("document.getElementById('flame-svg').dataset.view"), "end")
            self.assertIn("view=end", page.evaluate("location.hash"))
            end_size = page.evaluate("Number(document.querySelector('#flame-svg g.frame').dataset.size)")
            self.assertEqual(end_size, sum(t["size"] for t in self.snapshots[-1]["traces"]))

            page.click("#sites-table th[data-key=site] button")
            page.wait_for("document.querySelector('#sites-table th[data-key=site]').getAttribute('aria-sort') === 'ascending'")
            sites = page.evaluate("[...document.querySelectorAll('#sites-table tbody td.site')].map(td => td.textContent)")
            self.assertEqual(sites, sorted(sites))
            page.click("#sites-table th[data-key=site] button")
            page.wait_for("document.querySelector('#sites-table th[data-key=site]').getAttribute('aria-sort') === 'descending'")
            sites = page.evaluate("[...document.querySelectorAll('#sites-table tbody td.site')].map(td => td.textContent)")
            self.assertEqual(sites, sorted(sites, reverse=True))
            self.assertEqual(page.evaluate("document.documentElement.dataset.jsErrors"), "[]")
        finally:
            page.close()

    def test_a_resize_redraws_only_a_drawing_whose_width_changed(self):
        page = open_report(self.url)
        try:
            # Mark the drawn elements: a redraw replaces them with unmarked ones.
            page.evaluate("document.getElementById('flame-svg').dataset.mark = 'before';"
                          " document.getElementById('chart-svg').dataset.mark = 'before'")
            page.evaluate("window.dispatchEvent(new Event('resize'))")
            time.sleep(0.5)  # three times the page's debounce
            page.settle()
            self.assertEqual(page.evaluate("document.getElementById('flame-svg').dataset.mark"), "before")
            self.assertEqual(page.evaluate("document.getElementById('chart-svg').dataset.mark"), "before")

            old_width = page.evaluate("document.getElementById('flamegraph').clientWidth")
            new_width = old_width // 2 + 300  # narrower, and still above the drawing's 480 px minimum
            page.send("Emulation.setDeviceMetricsOverride", width=new_width, height=900, deviceScaleFactor=1,
                      mobile=False)
            page.wait_for("document.getElementById('flame-svg').dataset.mark === undefined")
            self.assertEqual(page.evaluate("Number(document.getElementById('flame-svg').getAttribute('width'))"),
                             max(page.evaluate("document.getElementById('flamegraph').clientWidth"), 480))
            self.assertLess(page.evaluate("document.getElementById('flamegraph').clientWidth"), old_width)
            page.wait_for("document.getElementById('chart-svg').dataset.mark === undefined")
            self.assertEqual(page.evaluate("document.documentElement.dataset.jsErrors"), "[]")
        finally:
            page.close()


class CyclesReport(ReportTestCase):
    """samples/cycles.cpp leaves unreachable cycles of three shapes and plain leaks."""

    @classmethod
    def setUpClass(cls):
        cls.profile("cycles")
        cls.dom = browser.dump_dom(cls.url)
        check = subprocess.run([HEAPSNAP, "check", "run.json", "--format", "json"], cwd=cls.dir, capture_output=True,
                               timeout=60, check=False)
        cls.leak_report = json.loads(check.stdout)

    def test_the_page_renders_without_script_errors(self):
        self.assert_rendered_without_errors(self.dom)

    def test_the_leak_list_is_what_heapsnap_check_finds(self):
        rows = self.dom.by_id("leaks-table").find_all("tbody")[0].find_all("tr")
        leaks = self.leak_report["leaks"]
        self.assertEqual(len(rows), len(leaks))
        for row, leak in zip(rows, leaks):
            self.assertEqual(row.get("data-kind"), leak["kind"])
            self.assertEqual(int(row.get("data-size")), leak["size"])
            self.assertEqual(int(row.get("data-count")), leak["count"])
            stack = [li.text() for li in row.find_all("li")]
            self.assertEqual(stack, [frame_text(frame) for frame in leak["traceback"]])
        self.assertEqual({row.get("data-kind") for row in rows}, {"cycle", "direct"})
        summary = self.dom.by_id("leaks-summary").text()
        totals = self.leak_report["totals"]
        self.assertIn(f"{tracemalloc._format_size(totals['size'], False)} leaked in {totals['count']} blocks", summary)
        self.assertIn(f"{totals['cycles']} unreachable reference cycles", summary)

    def test_the_cycle_groups_are_listed_by_shape(self):
        groups = self.dom.by_id("leak-cycles").find_all("details")
        self.assertEqual(len(groups), len(self.leak_report["cycle_shapes"]))
        headlines = [group.find_all("summary")[0].text() for group in groups]
        self.assertTrue(headlines[0].startswith("100 cycles of 2 blocks (96 B each): block at "), headlines)
        self.assertTrue(any(h.startswith("10 cycles of 3 blocks") for h in headlines), headlines)
        self.assertTrue(any(h.startswith("7 self-cycles") for h in headlines), headlines)
        self.assertIn("points to block 2", groups[0].find_all("pre")[0].text())

    def test_hovering_clicking_and_typing_drive_the_flame_graph(self):
        page = open_report(self.url)
        try:
            target = "#flame-svg g.frame[data-name*='make_ring']"
            name, size = page.evaluate(f"(() => {{ const g = document.querySelector(\"{target}\");"
                                       " return [g.dataset.name, Number(g.dataset.size)]; })()")

            tooltip = page.hover_until(target + " rect", "(() => { const t = document.getElementById('tooltip');"
                                       " return t.hidden ? null : t.textContent; })()")
            self.assertIsNotNone(tooltip)
            self.assertTrue(tooltip.startswith(name + "\n"), tooltip)
            self.assertIn(f"{tracemalloc._format_size(size, False)} ({size} B) in ", tooltip)
            self.assertIn(" blocks, ", tooltip)
            self.assertIn("% of run.json", tooltip)

            page.click_until(target + " rect", "location.hash.includes('zoom=')")
            width = page.evaluate("Number(document.getElementById('flame-svg').getAttribute('width'))")
            zoomed = page.evaluate(f"Number(document.querySelector(\"{target} rect\").getAttribute('width'))")
            self.assertEqual(zoomed, width)
            self.assertFalse(page.evaluate("document.getElementById('reset-zoom').disabled"))
            page.click_until("#reset-zoom", "!location.hash.includes('zoom=')")
            self.assertLess(page.evaluate(f"Number(document.querySelector(\"{target} rect\").getAttribute('width'))"), width)

            page.type_into("#search", "leak_plain")
            page.wait_for("location.hash.includes('search=leak_plain')")
            matched = page.evaluate("[...document.querySelectorAll('#flame-svg g.frame.match')].map(g => g.dataset.name)")
            self.assertTrue(matched)
            self.assertTrue(all("leak_plain" in name for name in matched), matched)
            self.assertEqual(page.evaluate("document.documentElement.dataset.jsErrors"), "[]")
        finally:
            page.close()


if __name__ == "__main__":
    unittest.main()
