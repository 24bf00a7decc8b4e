"""A Python project's CI with heapsnap: tracemalloc snapshots dumped by a real Python program
(python_workload.py), converted by tools/tracemalloc_to_heapsnap.py, then `heapsnap stats`, `diff`
and `check` on them: exit codes, and JSON that matches docs/schemas and tracemalloc's own numbers.

Environment: HEAPSNAP_BIN (the built heapsnap), HEAPSNAP_SOURCE_DIR (the source tree).
"""

import json
import os
import pickle
import subprocess
import sys
import tempfile
import unittest

HEAPSNAP = os.environ["HEAPSNAP_BIN"]
SOURCE_DIR = os.environ["HEAPSNAP_SOURCE_DIR"]
TOOLS = os.path.join(SOURCE_DIR, "tools")
CONVERTER = os.path.join(TOOLS, "tracemalloc_to_heapsnap.py")
WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_workload.py")
PYTHON = sys.executable

sys.path.insert(0, TOOLS)
import tracemalloc_to_heapsnap  # noqa: E402


def run(*args):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def leak_line():
    with open(WORKLOAD) as f:
        return next(n for n, line in enumerate(f, 1) if "# LEAK SITE" in line)


def validate(instance, schema, root=None, path="$"):
    """The subset of JSON Schema that docs/schemas uses: $ref, type, required, properties, items,
    minItems, minimum. Raises AssertionError naming the path."""
    root = root or schema
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return validate(instance, target, root, path)
    kind = schema.get("type")
    checks = {"array": list, "object": dict, "string": str}
    if kind == "integer":
        assert isinstance(instance, int) and not isinstance(instance, bool), "%s: not an integer" % path
        assert instance >= schema.get("minimum", instance), "%s: below the minimum" % path
    elif kind in checks:
        assert isinstance(instance, checks[kind]), "%s: not a %s" % (path, kind)
    if kind == "object":
        for key in schema.get("required", []):
            assert key in instance, "%s: %s missing" % (path, key)
        for key, value in instance.items():
            if key in schema.get("properties", {}):
                validate(value, schema["properties"][key], root, path + "." + key)
    if kind == "array":
        assert len(instance) >= schema.get("minItems", 0), "%s: too few items" % path
        for index, item in enumerate(instance):
            validate(item, schema["items"], root, "%s[%d]" % (path, index))


def load_schema(name):
    with open(os.path.join(SOURCE_DIR, "docs", "schemas", name)) as f:
        return json.load(f)


class PythonProject(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="heapsnap-python-")
        cls.dir = cls.tmp.name
        done = run(PYTHON, WORKLOAD, cls.dir, TOOLS)
        assert done.returncode == 0, done.stderr
        for name in ("before", "after"):
            done = run(PYTHON, CONVERTER, cls.path(name + ".dump"), cls.path(name + ".json"))
            assert done.returncode == 0, done.stderr
        with open(cls.path("expected.json")) as f:
            cls.expected = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def heapsnap_json(self, *args, status=0):
        done = run(HEAPSNAP, *args, "--format", "json")
        self.assertEqual(done.returncode, status, done.stderr)
        return json.loads(done.stdout)

    def without_functions(self, entries):
        for entry in entries:
            for frame in entry["traceback"]:
                self.assertEqual(frame.pop("function"), "")  # Python frames have none
        return entries

    def test_stats_are_tracemalloc_statistics(self):
        stats = self.heapsnap_json("stats", self.path("after.json"), "--limit", "0")
        validate(stats, load_schema("stats.schema.json"))
        self.assertEqual(self.without_functions(stats), self.expected["stats"])
        top = stats[0]
        self.assertEqual(top["traceback"], [{"filename": WORKLOAD, "lineno": leak_line()}])
        self.assertGreaterEqual(top["count"], 6)  # six bytearrays (and the list growing) at the leak site
        self.assertGreaterEqual(top["size"], 600_000)

    def test_diff_is_tracemalloc_compare_to(self):
        diff = self.heapsnap_json("diff", self.path("before.json"), self.path("after.json"), "--limit", "0")
        validate(diff, load_schema("diff.schema.json"))
        self.assertEqual(self.without_functions(diff), self.expected["diff"])
        top = diff[0]
        self.assertEqual(top["traceback"], [{"filename": WORKLOAD, "lineno": leak_line()}])
        self.assertGreaterEqual(top["count_diff"], 5)
        self.assertGreaterEqual(top["size_diff"], 500_000)

    def test_check_gates_growth_over_a_baseline(self):
        report = self.heapsnap_json("check", self.path("after.json"), "--baseline", self.path("before.json"),
                                    "--max-leaked-bytes", "100000", "--max-leaked-blocks", "1000", status=1)
        validate(report, load_schema("leak-report.schema.json"))
        self.assertFalse(report["gate"]["passed"])
        leak = report["leaks"][0]
        self.assertEqual(leak["kind"], "allocated")  # no reachability analysis for Python snapshots
        self.assertEqual([(f["filename"], f["lineno"]) for f in leak["traceback"]][0], (WORKLOAD, leak_line()))
        self.assertGreaterEqual(leak["size"], 500_000)
        # The same snapshot as its own baseline has grown by nothing: the gate passes.
        report = self.heapsnap_json("check", self.path("after.json"), "--baseline", self.path("after.json"))
        self.assertTrue(report["gate"]["passed"])
        self.assertEqual(report["leaks"], [])
        # Growth within generous thresholds passes too.
        self.heapsnap_json("check", self.path("after.json"), "--baseline", self.path("before.json"),
                           "--max-leaked-bytes", "100000000", "--max-leaked-blocks", "100000")

    def test_live_conversion_equals_the_dump_conversion(self):
        with open(self.path("live.json")) as f:
            live = json.load(f)
        with open(self.path("after.json")) as f:
            dumped = json.load(f)
        self.assertEqual(live, dumped)
        self.assertEqual(dumped["traceback_limit"], 10)
        # Traces are summed per (domain, traceback): the leak site has one trace per call of grow()
        # in main(), holding all the blocks allocated there.
        frames = dumped["frames"]
        leak = [t for t in dumped["traces"]
                if frames[dumped["tracebacks"][t["traceback"]]["frames"][0]]["lineno"] == leak_line()
                and frames[dumped["tracebacks"][t["traceback"]]["frames"][0]]["filename"] == WORKLOAD]
        self.assertEqual(len(leak), 2)
        self.assertEqual(sum(t["count"] for t in leak), self.expected["stats"][0]["count"])


class Converter(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="heapsnap-convert-")
        self.dir = self.tmp.name
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.dir, name)

    def dump(self, traces, limit=3):
        import tracemalloc
        path = self.path("in.dump")
        tracemalloc.Snapshot(traces, limit).dump(path)
        return path

    def test_aggregates_per_domain_and_traceback(self):
        import tracemalloc
        traces = [(0, 10, (("a.py", 2), ("b.py", 4)), 3), (0, 10, (("a.py", 2), ("b.py", 4)), 3),
                  (1, 2, (("a.py", 2), ("b.py", 4)), 3), (0, 66, (("b.py", 1),), 1)]
        document = tracemalloc_to_heapsnap.convert(tracemalloc.Snapshot(traces, 3))
        self.assertEqual(document["frames"][0], {"function": "", "filename": "a.py", "lineno": 2, "module": "",
                                                 "address": "0x0"})
        self.assertEqual(document["tracebacks"], [{"frames": [0, 1], "total_nframe": 3},
                                                  {"frames": [2], "total_nframe": 1}])
        self.assertEqual([(t["domain"], t["traceback"], t["size"], t["count"]) for t in document["traces"]],
                         [(0, 0, 20, 2), (1, 0, 2, 1), (0, 1, 66, 1)])

    def test_cli_converts_and_heapsnap_reads_it(self):
        source = self.dump([(0, 10, (("a.py", 2),), 1), (3, 7, (("<unknown>", 0),), 1)])
        done = run(PYTHON, CONVERTER, source, self.path("out.json"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(os.stat(self.path("out.json")).st_mode & 0o777, 0o600)
        stats = json.loads(run(HEAPSNAP, "stats", self.path("out.json"), "--format", "json").stdout)
        self.assertEqual([(s["traceback"][0]["filename"], s["size"]) for s in stats], [("a.py", 10), ("<unknown>", 7)])

    def test_refuses_to_replace_output_without_force(self):
        source = self.dump([(0, 10, (("a.py", 2),), 1)])
        with open(self.path("out.json"), "w") as f:
            f.write("keep me")
        done = run(PYTHON, CONVERTER, source, self.path("out.json"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("already exists", done.stderr)
        with open(self.path("out.json")) as f:
            self.assertEqual(f.read(), "keep me")
        self.assertEqual(run(PYTHON, CONVERTER, source, self.path("out.json"), "--force").returncode, 0)
        with open(self.path("out.json")) as f:
            self.assertEqual(json.load(f)["format"], "heapsnap-snapshot")

    def test_bad_inputs_exit_2(self):
        with open(self.path("garbage.dump"), "wb") as f:
            f.write(b"not a pickle at all")
        done = run(PYTHON, CONVERTER, self.path("garbage.dump"), self.path("a.json"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("not a tracemalloc snapshot", done.stderr)
        done = run(PYTHON, CONVERTER, self.path("missing.dump"), self.path("b.json"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("No such file", done.stderr)
        self.assertEqual(run(PYTHON, CONVERTER).returncode, 2)
        self.assertFalse(os.path.exists(self.path("a.json")) or os.path.exists(self.path("b.json")))

    def test_a_hostile_pickle_runs_no_code(self):
        marker = self.path("pwned")

        class Hostile:
            def __reduce__(self):
                return (os.system, ("touch " + marker,))

        with open(self.path("hostile.dump"), "wb") as f:
            pickle.dump(Hostile(), f)
        done = run(PYTHON, CONVERTER, self.path("hostile.dump"), self.path("out.json"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("refers to", done.stderr)
        self.assertFalse(os.path.exists(marker))

    def test_values_heapsnap_cannot_hold_are_errors(self):
        import tracemalloc
        for trace in [(-1, 10, (("a.py", 2),), 1), (0, -5, (("a.py", 2),), 1), (0, 5, (("a.py", -2),), 1),
                      (2**32, 5, (("a.py", 2),), 1), (0, 5, ((b"a.py", 2),), 1)]:
            with self.subTest(trace=trace):
                with self.assertRaises(tracemalloc_to_heapsnap.ConversionError):
                    tracemalloc_to_heapsnap.convert(tracemalloc.Snapshot([trace], 1))


if __name__ == "__main__":
    unittest.main()
