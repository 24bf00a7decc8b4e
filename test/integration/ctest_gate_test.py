"""A CTest suite gated in one step (docs/ci.md): `heapsnap run --check -- ctest` profiles every test
process and gates each snapshot; CMAKE_CROSSCOMPILING_EMULATOR runs each test under `heapsnap run
--check` instead, so that ctest itself marks the leaking test failed. The project is ctest_project/:
one test that frees everything, one that leaks 3 blocks of 100 bytes.
"""
import json
import os
import re
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, HeapsnapTestCase, line_of, run

PROJECT = Path(__file__).resolve().parent / "ctest_project"
LEAK_LINE = line_of(PROJECT / "leaks_three_blocks.c", "LEAK SITE")


class CTestGate(HeapsnapTestCase):
    def build(self, *options):
        build = self.dir / "build"
        configured = run(["cmake", "-S", str(PROJECT), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Debug", *options])
        self.assertEqual(configured.returncode, 0, configured.stderr)
        built = run(["cmake", "--build", str(build)])
        self.assertEqual(built.returncode, 0, built.stdout)
        return build

    def leaks_of(self, snapshot_path):
        report = run([HEAPSNAP, "check", str(snapshot_path), "--format", "json"])
        return json.loads(report.stdout)["totals"]

    def test_the_whole_suite_in_one_step(self):
        build = self.build()
        result = run([HEAPSNAP, "run", "--check", "--quiet", "-o", str(self.dir / "ctest.json"), "--",
                      "ctest", "--test-dir", str(build)])
        # ctest passed both tests; the gate failed on one: 23.
        self.assertEqual(result.returncode, 23, result.stderr)
        self.assertIn(b"100% tests passed", result.stdout)
        stderr = result.stderr.decode()
        self.assertIn(f"leaks_three_blocks.c:{LEAK_LINE} (main)", stderr)
        self.assertIn("300 B in 3 blocks", stderr)
        self.assertEqual(len(re.findall(r"heapsnap: check failed: ", stderr)), 1, stderr)
        # One snapshot per process: ctest's own and one per test.
        children = sorted(self.dir.glob("ctest.*.json"))
        self.assertEqual(len(children), 2, children)
        leaked = sorted((self.leaks_of(path)["count"], self.leaks_of(path)["size"]) for path in children)
        self.assertEqual(leaked, [(0, 0), (3, 300)])

    def test_only_the_program_itself_with_no_follow_children(self):
        build = self.build()
        result = run([HEAPSNAP, "run", "--check", "--quiet", "--no-follow-children", "-o",
                      str(self.dir / "ctest.json"), "--", "ctest", "--test-dir", str(build)])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(p.name for p in self.dir.glob("*.json")), ["ctest.json"])

    def test_each_test_through_the_emulator(self):
        snapshots = self.dir / "snapshots"
        snapshots.mkdir()
        emulator = ";".join([HEAPSNAP, "run", "--check", "--quiet", "-o", str(snapshots / "test.%p.json"), "--"])
        build = self.build(f"-DCMAKE_CROSSCOMPILING_EMULATOR={emulator}")
        result = run(["ctest", "--test-dir", str(build), "--output-on-failure"])
        self.assertNotEqual(result.returncode, 0)
        output = result.stdout.decode()
        self.assertRegex(output, r"frees_everything \.+\s+Passed")
        self.assertRegex(output, r"leaks_three_blocks \.+\*\*\*Failed")
        self.assertIn(f"leaks_three_blocks.c:{LEAK_LINE} (main)", output)  # the report, on the test's output
        self.assertEqual(len(list(snapshots.glob("test.*.json"))), 2)


if __name__ == "__main__":
    unittest.main()
