"""End to end: the leaky sample under `heapsnap run`, then `heapsnap check --suppressions` as a CI
would run it: suppressing one known leak leaves the other failing the gate, suppressing both passes,
and a baseline from another run composes with them.

Paths come from the environment set by ctest (see CMakeLists.txt next to this file).
"""
import json
import sys
import unittest

from heapsnap_run_test import SOURCE, SAMPLES, HeapsnapTestCase, function_pattern, line_of, short_name

sys.path.insert(0, str(SOURCE / "test" / "conformance"))
from python_project_test import load_schema, validate  # noqa: E402  (the schema checker of docs/schemas)

LEAKY_SOURCE = SOURCE / "samples" / "leaky.cpp"


class Suppressions(HeapsnapTestCase):
    def setUp(self):
        super().setUp()
        self.profile(str(SAMPLES / "leaky"))
        self.buffer_line = line_of(LEAKY_SOURCE, "LEAK SITE 1")
        self.record_line = line_of(LEAKY_SOURCE, "LEAK SITE 2")

    def write(self, name, text):
        (self.dir / name).write_text(text)
        return name

    def report(self, *args, status):
        result = self.check("out.json", "--format", "json", *args)
        self.assertEqual(result.returncode, status, result.stderr)
        report = json.loads(result.stdout)
        validate(report, load_schema("leak-report.schema.json"))
        return report

    def sites(self, report):
        return sorted((short_name(leak["traceback"][0]["function"]), leak["traceback"][0]["lineno"], leak["size"], leak["count"])
                      for leak in report["leaks"])

    def test_suppressing_make_buffer_leaves_make_record_failing(self):
        self.write("known.supp", "# Buffers the sample never frees, on purpose (issue 7).\n"
                                 "leak:make_buffer\n"
                                 "\n"
                                 "# Fixed long ago: kept to show that stale rules are reported.\n"
                                 "leak:free_everything_properly\n")
        report = self.report("--suppressions", "known.supp", status=1)
        self.assertEqual(self.sites(report), [("make_record", self.record_line, 240, 5)])
        self.assertEqual(report["totals"]["size"], 240)
        rules = report["suppressions"]["rules"]
        self.assertEqual([(r["line"], r["pattern"], r["blocks"], r["bytes"]) for r in rules],
                         [(2, "make_buffer", 3, 300), (5, "free_everything_properly", 0, 0)])
        self.assertEqual(report["suppressions"]["unmatched"], [1])

        text = self.check("out.json", "--suppressions", "known.supp")
        self.assertEqual(text.returncode, 1)
        self.assertIn(b"Suppressed: 300 B in 3 blocks by 1 of 2 rules", text.stdout)
        self.assertIn(b"known.supp:5: leak:free_everything_properly: matched nothing", text.stdout)
        self.assertRegex(text.stdout.decode(), rf"leaky\.cpp:{self.record_line} \({function_pattern('make_record')}\)")
        self.assertNotRegex(text.stdout.decode(), rf"\({function_pattern('make_buffer')}\)")
        self.assertIn(b"5 leaked blocks (240 B) exceed --max-leaked-blocks 0", text.stderr)

    def test_suppressing_both_leaks_passes(self):
        self.write("known.supp", "leak:make_buffer\n")
        self.write("records.supp", f"direct:samples/leaky.cpp:{self.record_line}  # by file and line\n")
        report = self.report("--suppressions", "known.supp", "--suppressions", "records.supp", status=0)
        self.assertEqual(report["leaks"], [])
        self.assertTrue(report["gate"]["passed"])
        self.assertEqual(report["suppressions"]["totals"], {"blocks": 8, "bytes": 540, "cycles": 0})
        self.assertEqual(report["suppressions"]["unmatched"], [])

    def test_suppressions_compose_with_a_baseline(self):
        # A baseline from "main" (the same program): nothing grew, the gate passes with or without rules.
        self.profile(str(SAMPLES / "leaky"), output="main.json")
        self.write("known.supp", "leak:make_buffer\n")
        self.assertEqual(self.check("out.json", "--baseline", "main.json").returncode, 0)
        report = self.report("--baseline", "main.json", "--suppressions", "known.supp", status=0)
        self.assertEqual(report["suppressions"]["rules"][0]["bytes"], 300)  # counted in the new snapshot
        # A baseline without leaks (a program that frees everything): the records are new leaks; the
        # buffers are suppressed in both snapshots.
        self.profile(str(SAMPLES / "churn"), "5", output="clean.json")
        report = self.report("--baseline", "clean.json", "--suppressions", "known.supp", status=1)
        self.assertEqual(self.sites(report), [("make_record", self.record_line, 240, 5)])

    def test_a_bad_suppression_file_exits_2_naming_the_position(self):
        self.write("bad.supp", "leak:make_buffer\nleak:  \n")
        result = self.check("out.json", "--suppressions", "bad.supp")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr, b"heapsnap: error: bad.supp: line 2, column 6: empty pattern after 'leak:'\n")


if __name__ == "__main__":
    unittest.main()
