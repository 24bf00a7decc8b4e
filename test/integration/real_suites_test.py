"""Real projects' own test suites under the leak gate (issue 12): tinyxml2, jsoncpp and cJSON from
Debian's sources (`apt-get source`, real_suites/fetch_and_build.sh, cached under the build tree). Each
test binary runs under `heapsnap run` and `heapsnap check`, and under LSan; heapsnap's gate must give
LSan's verdict, with the same blocks and bytes: these suites free what they allocate, so a leak one
tool reports and the other does not is a bug in one of them (docs/accuracy.md).
"""
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, SOURCE, run
from leak_verdicts import describe, heapsnap_verdicts, lsan_environment, lsan_verdicts
from leak_verdicts_test import RUNS, VerdictTestCase

CACHE = os.environ["HEAPSNAP_REAL_SUITES_DIR"]  # build/real_suites, set by ctest


class RealSuites(VerdictTestCase):
    @classmethod
    def setUpClass(cls):
        built = subprocess.run([str(SOURCE / "test" / "integration" / "real_suites" / "fetch_and_build.sh"), CACHE],
                               capture_output=True, timeout=1200)
        if built.returncode != 0:
            raise AssertionError(f"fetch_and_build.sh failed: {built.stderr.decode()[-3000:]}")
        cls.suites = []
        for line in built.stdout.decode().splitlines():
            name, directory, command = line.split("\t")
            cls.suites.append((name, Path(directory), command.split()))

    def test_each_suite_passes_and_the_gates_verdict_is_lsans(self):
        self.assertGreaterEqual(len({name.split()[0] for name, _, _ in self.suites}), 3, self.suites)
        for name, directory, command in self.suites:
            with self.subTest(suite=name):
                program = Path(command[0]).name
                direct = run(command, cwd=directory, env=self.env)
                self.assertEqual(direct.returncode, 0, f"{name} fails on its own: {direct.stdout.decode()[-2000:]}")
                for number in range(RUNS):
                    stem = f"{program}-{number}"
                    profiled = run([HEAPSNAP, "run", "--quiet", "-o", str(self.snapshots / f"{stem}.json"), "--",
                                    *command], cwd=directory, env=self.env)
                    self.assertEqual(profiled.returncode, 0,
                                     f"{name} under heapsnap: {profiled.stderr.decode()[-2000:]}")
                    gate = run([HEAPSNAP, "check", str(self.snapshots / f"{stem}.json")])
                    logs = self.snapshots / f"lsan-{stem}"
                    checked = run(command, cwd=directory, env=lsan_environment(self.env, logs))
                    self.assertEqual(checked.returncode, 0, f"{name} under LSan: {checked.stderr.decode()[-2000:]}")
                    heapsnap = heapsnap_verdicts(self.snapshots, stem).get(program)
                    lsan = lsan_verdicts(logs).get(program)
                    self.assertIsNotNone(heapsnap, f"{name}: no snapshot")
                    print(f"\n  {name}: heapsnap {heapsnap.summary()}, LSan {lsan.summary() if lsan else 'no leak'}",
                          file=sys.stderr)
                    self.assertEqual(gate.returncode, 1 if heapsnap.leaked else 0, gate.stderr)
                    self.assertEqual((heapsnap.blocks, heapsnap.bytes), (lsan.blocks, lsan.bytes) if lsan else (0, 0),
                                     f"{name}: heapsnap {describe({program: heapsnap})}; LSan "
                                     f"{describe({program: lsan}) if lsan else 'no leak'}")

    def test_a_whole_ctest_suite_passes_the_gate_in_one_step(self):
        # cJSON's own CTest suite, every test process profiled and gated by one `heapsnap run --check`
        # (docs/ci.md): no leak, as LSan says above, and one snapshot per test besides ctest's own.
        build = Path(CACHE) / "build" / "cjson"
        listed = run(["ctest", "--test-dir", str(build), "-N"])
        tests = int(re.search(rb"Total Tests: (\d+)", listed.stdout).group(1))
        self.assertGreaterEqual(tests, 20, listed.stdout)
        result = run([HEAPSNAP, "run", "--check", "--quiet", "-o", str(self.snapshots / "ctest.json"), "--",
                      "ctest", "--test-dir", str(build)])
        self.assertEqual(result.returncode, 0, result.stderr.decode()[-3000:])
        self.assertIn(b"100% tests passed", result.stdout)
        self.assertEqual(len(list(self.snapshots.glob("ctest.*.json"))), tests)


if __name__ == "__main__":
    unittest.main()
