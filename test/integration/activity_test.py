"""Allocation activity per site: calls, bytes allocated, temporary allocations and the part of the
peak, exact on a program whose numbers are known (activity_program.cpp, four threads included), and
what `stats --sort` and `diff --sort` make of them. Paths come from the environment set by ctest.
"""
import json
import os
import re
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, HeapsnapTestCase, run, short_name

PROGRAM = Path(os.environ["HEAPSNAP_ACTIVITY_PROGRAM"])
KiB = 1024

# function: (calls, bytes allocated, temporary, bytes at the peak, blocks at the peak)
EXPECTED = {
    "temporary_site": (2000, 2000 * 64, 2000, 0, 0),
    "pair_first": (400, 400 * 32, 0, 0, 0),
    "pair_second": (400, 400 * 48, 0, 0, 0),
    "kept_site": (10, 10 * 1000, 0, 10 * 1000, 10),
    "peak_site": (4, 4 * 256 * KiB, 0, 1024 * KiB, 4),
    "after_peak_site": (1, 512 * KiB, 1, 0, 0),
}
FIELDS = ("calls", "allocated_size", "temporary", "peak_size", "peak_count")


def activity_by_function(snapshot):
    """Per allocating function (the first frame), every activity field summed."""
    result = {}
    for site in snapshot["activity"]:
        frame = snapshot["frames"][snapshot["tracebacks"][site["traceback"]]["frames"][0]]
        totals = result.setdefault(short_name(frame["function"]), [0] * len(FIELDS))
        for i, field in enumerate(FIELDS):
            totals[i] += site[field]
    return {name: tuple(totals) for name, totals in result.items()}


class Activity(HeapsnapTestCase):
    def profile_program(self, output="out.json"):
        result = self.profile(str(PROGRAM), output=output)
        self.assertEqual(result.stdout, b"done\n")
        return self.snapshot(output)

    def test_every_site_counts_exactly_what_it_did(self):
        snapshot = self.profile_program()
        found = activity_by_function(snapshot)
        for function, expected in EXPECTED.items():
            self.assertEqual(found.get(function), expected, function)
        # The view was taken at the peak: the four big blocks and the kept ones, all live together.
        view = snapshot["peak_view"]["total"]
        self.assertGreaterEqual(view, 1024 * KiB + 10000)
        self.assertLessEqual(view, snapshot["memory"]["peak"])
        self.assertEqual(view, sum(site["peak_size"] for site in snapshot["activity"]))
        # tracemalloc's figures are unchanged by it: the traces hold the live memory only.
        live = {short_name(snapshot["frames"][snapshot["tracebacks"][t["traceback"]]["frames"][0]]["function"])
                for t in snapshot["traces"]}
        self.assertIn("kept_site", live)
        self.assertNotIn("peak_site", live)
        self.assertGreaterEqual(snapshot["memory"]["allocation_calls"], sum(e[0] for e in EXPECTED.values()))

    def test_stats_ranks_by_each_measure(self):
        self.profile_program()
        def first_function(measure):
            result = run([HEAPSNAP, "stats", "out.json", "--sort", measure, "--format", "json"], cwd=self.dir)
            self.assertEqual(result.returncode, 0, result.stderr)
            entries = json.loads(result.stdout)
            return short_name(entries[0]["traceback"][0]["function"]), entries[0]
        self.assertEqual(first_function("calls")[0], "temporary_site")
        self.assertEqual(first_function("temporary")[0], "temporary_site")
        self.assertEqual(first_function("allocated")[0], "peak_site")
        name, entry = first_function("peak")
        self.assertEqual((name, entry["peak_size"], entry["peak_count"], entry["calls"]), ("peak_site", 1024 * KiB, 4, 4))

        text = run([HEAPSNAP, "stats", "out.json", "--sort", "calls", "--limit", "1"], cwd=self.dir)
        lines = text.stdout.decode().splitlines()
        self.assertEqual(lines[0], "Top 1 line by allocation calls")
        self.assertRegex(lines[1], r"^#1: .*activity_program\.cpp:\d+ \(.*temporary_site.*\): "
                                   r"allocated=125 KiB in 2000 calls, temporary=2000, peak=0 B, live=0 B$")
        self.assertRegex(lines[-1], r"^Peak view: \d+ KiB live when taken; the traced peak is \d+ KiB$")

    def test_diff_ranks_by_the_change_of_a_measure(self):
        self.profile_program("one.json")
        self.profile_program("two.json")
        result = run([HEAPSNAP, "diff", "one.json", "two.json", "--sort", "calls", "--format", "json"], cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        for entry in json.loads(result.stdout):
            if short_name(entry["traceback"][0]["function"]) in EXPECTED:
                self.assertEqual((entry["calls_diff"], entry["temporary_diff"], entry["peak_size_diff"]), (0, 0, 0))

    def test_interval_snapshots_carry_the_peak_since_the_previous_one(self):
        result = self.profile(str(PROGRAM), "phases", extra=("--interval", "100"))
        self.assertEqual(result.stdout, b"done\n")
        numbered = sorted(self.dir.glob("out.snap-*.json"), key=lambda p: int(p.name.split("-")[1].split(".")[0]))
        self.assertGreaterEqual(len(numbered), 4, numbered)
        def peak_by_function(path):
            # Through `stats`: a site that held nothing when the snapshot was taken is named by the
            # reading commands, from the program's debug information (Symbolizer::DebugInfo::OnlyRead).
            result = run([HEAPSNAP, "stats", str(path), "--sort", "peak", "--format", "json", "--limit", "0"], cwd=self.dir)
            self.assertEqual(result.returncode, 0, result.stderr)
            found = {}
            for entry in json.loads(result.stdout):
                name = short_name(entry["traceback"][0]["function"])
                found[name] = found.get(name, 0) + entry["peak_size"]
            return found
        views = []
        for path in numbered:
            found = peak_by_function(path)
            views.append((json.loads(path.read_text())["peak_view"]["since"], found.get("peak_site", 0),
                          found.get("after_peak_site", 0)))
        self.assertEqual({since for since, _, _ in views}, {"previous_snapshot"})
        # A window that saw the second peak and not the first: the 512 KiB block, not the 1 MiB.
        self.assertIn((512 * KiB, 0), [(after, peak) for _, peak, after in views])
        # And the first window's peak is the 1 MiB; later quiet windows hold neither.
        self.assertIn((0, 1024 * KiB), [(after, peak) for _, peak, after in views])
        # The exit snapshot's view is the whole run's peak.
        self.assertEqual(self.snapshot()["peak_view"]["since"], "tracing_start")
        found = peak_by_function(self.dir / "out.json")
        self.assertEqual((found.get("peak_site"), found.get("after_peak_site", 0)), (1024 * KiB, 0))

    def test_bad_requests_are_refused(self):
        self.profile_program()
        cumulative = run([HEAPSNAP, "stats", "out.json", "--sort", "calls", "--cumulative"], cwd=self.dir)
        self.assertEqual(cumulative.returncode, 2)
        self.assertIn(b"--cumulative counts live memory only", cumulative.stderr)
        snapshot = json.loads((self.dir / "out.json").read_text())
        del snapshot["activity"]
        (self.dir / "old.json").write_text(json.dumps(snapshot))
        old = run([HEAPSNAP, "stats", "old.json", "--sort", "peak"], cwd=self.dir)
        self.assertEqual(old.returncode, 2)
        self.assertIn(b"old.json: the snapshot has no per-site allocation activity", old.stderr)
        self.assertEqual(run([HEAPSNAP, "stats", "old.json"], cwd=self.dir).returncode, 0)  # live still works
        snapshot = json.loads((self.dir / "out.json").read_text())
        snapshot["activity"][0]["temporary"] = snapshot["activity"][0]["calls"] + 1
        (self.dir / "bad.json").write_text(json.dumps(snapshot))
        bad = run([HEAPSNAP, "stats", "bad.json"], cwd=self.dir)
        self.assertEqual(bad.returncode, 2)
        self.assertIn(b"bad.json: /activity/0/temporary: more temporary allocations", bad.stderr)


if __name__ == "__main__":
    unittest.main()
