"""How the leak analysis stops the program's threads (docs/stop-the-world.md): ptrace by default, so
that a thread blocking every signal is scanned; the signal fallback when ptrace is denied (a seccomp
filter, as container runtimes install), which counts such a thread unscanned and says so; the
HEAPSNAP_STOP_METHOD override; fork. Verdicts are checked on several runs: they must not depend on
timing. Paths come from the environment set by ctest."""
import json
import os
import re
import signal
import subprocess
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, SOURCE, HeapsnapTestCase, line_of_code, run

STOP_BIN = Path(os.environ["HEAPSNAP_STOP_BIN"])
PROGRAM = str(STOP_BIN / "heapsnap_stop_the_world_program")
DENY_PTRACE = str(STOP_BIN / "heapsnap_deny_ptrace")
RUNS = 5

# Block sizes in the program: generation * 1000 + 1 (stack of the signal-blocking thread), + 2 (its
# register), + 3 (the waiting worker's stack).
SIGNAL_THREAD_STACK, SIGNAL_THREAD_REGISTER, WORKER_STACK = 1001, 1002, 1003


def reachability_by_size(snapshot):
    """{size: reachability} of the traces holding one block."""
    return {trace["size"]: trace["reachability"] for trace in snapshot["traces"] if trace["count"] == 1}


class StopTheWorld(HeapsnapTestCase):
    def run_program(self, *args, output="out.json", env=None, wrapper=()):
        result = run([*wrapper, HEAPSNAP, "run", "--quiet", "--force", "-o", str(self.dir / output), "--", PROGRAM, *args],
                     cwd=self.dir, env={**os.environ, **(env or {})})
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def check_json(self, name="out.json"):
        result = self.check(name, "--format", "json")
        return result.returncode, json.loads(result.stdout)

    def test_ptrace_stops_and_scans_a_thread_that_blocks_every_signal(self):
        for attempt in range(RUNS):
            with self.subTest(run=attempt):
                self.run_program()
                snapshot = self.snapshot()
                stop = snapshot["thread_stop"]
                self.assertEqual(stop["method"], "ptrace", stop)
                self.assertEqual(stop["fallback_reason"], "")
                self.assertEqual(stop["threads_unscanned"], 0)
                self.assertGreaterEqual(stop["threads_scanned"], 3)  # main, signal-blocking, worker
                blocks = reachability_by_size(snapshot)
                for size in (SIGNAL_THREAD_STACK, SIGNAL_THREAD_REGISTER, WORKER_STACK):
                    self.assertEqual(blocks.get(size), "reachable", size)
                status, report = self.check_json()
                self.assertEqual(status, 0, report["leaks"])
                self.assertEqual(report["leaks"], [])
                self.assertEqual(report["thread_stop"]["method"], "ptrace")
                self.assertIsNone(report["thread_stop"]["warning"])
                self.assertNotIn("incomplete", self.check("out.json").stdout.decode())

    def test_a_real_leak_beside_them_is_reported_alone(self):
        leak_line = line_of_code(SOURCE / "test" / "integration" / "stop_the_world_program.cpp", "LEAK SITE")
        for attempt in range(RUNS):
            with self.subTest(run=attempt):
                self.run_program("leak")
                status, report = self.check_json()
                self.assertEqual(status, 1)
                leaks = [(leak["kind"], leak["size"], leak["count"], leak["traceback"][0]["lineno"])
                         for leak in report["leaks"]]
                self.assertEqual(leaks, [("direct", 333, 1, leak_line)])

    def test_when_ptrace_is_denied_signals_stop_the_world_and_the_report_says_what_was_missed(self):
        for attempt in range(RUNS):
            with self.subTest(run=attempt):
                self.run_program(wrapper=(DENY_PTRACE,))
                snapshot = self.snapshot()
                stop = snapshot["thread_stop"]
                self.assertEqual(stop["method"], "signals", stop)
                self.assertIn("ptrace not permitted", stop["fallback_reason"])
                self.assertIn("Operation not permitted", stop["fallback_reason"])
                # The signal-blocking thread is counted at once, not after the answer timeout.
                self.assertEqual(stop["threads_unscanned"], 1)
                self.assertEqual(stop["threads_scanned"], 2)  # main and the worker
                blocks = reachability_by_size(snapshot)
                self.assertEqual(blocks.get(WORKER_STACK), "reachable")
                # The thread that could not be stopped: its stack is scanned whole while it runs, dead
                # frames included, so what it holds there is not reported leaked. Its registers cannot
                # be read (a block only they hold may look leaked, unless a stale copy lies in a dead
                # frame): why the report warns.
                self.assertEqual(blocks.get(SIGNAL_THREAD_STACK), "reachable")

                text = self.check("out.json").stdout.decode()
                self.assertRegex(text, re.escape("leak verdict may be incomplete: 1 thread could not be stopped "
                                                 "(signals: ptrace not permitted: ") + r".*Operation not permitted\)")
                _, report = self.check_json()
                self.assertEqual(report["thread_stop"]["method"], "signals")
                self.assertEqual(report["thread_stop"]["threads_unscanned"], 1)
                self.assertIn("leak verdict may be incomplete: 1 thread", report["thread_stop"]["warning"])

    def test_heapsnap_stop_method_chooses_the_method(self):
        self.run_program(env={"HEAPSNAP_STOP_METHOD": "signals"})
        stop = self.snapshot()["thread_stop"]
        self.assertEqual((stop["method"], stop["fallback_reason"], stop["threads_unscanned"]),
                         ("signals", "HEAPSNAP_STOP_METHOD=signals", 1))
        self.run_program(env={"HEAPSNAP_STOP_METHOD": "ptrace"})
        stop = self.snapshot()["thread_stop"]
        self.assertEqual((stop["method"], stop["threads_unscanned"]), ("ptrace", 0))

    def assert_every_thread_scanned(self, snapshot, reason):
        self.assertEqual(snapshot["process"]["reason"], reason)
        self.assertEqual((snapshot["thread_stop"]["method"], snapshot["thread_stop"]["threads_unscanned"]),
                         ("ptrace", 0))
        blocks = reachability_by_size(snapshot)
        for size in (SIGNAL_THREAD_STACK, SIGNAL_THREAD_REGISTER, WORKER_STACK):
            self.assertEqual(blocks.get(size), "reachable", size)

    def test_a_single_threaded_program_is_not_stopped_and_its_verdict_has_no_note(self):
        for method in ("ptrace", "signals"):
            with self.subTest(method=method):
                result = run([HEAPSNAP, "run", "--quiet", "--force", "-o", str(self.dir / "one.json"), "--",
                              "/bin/echo", "hello"],
                             cwd=self.dir, env={**os.environ, "HEAPSNAP_STOP_METHOD": method})
                self.assertEqual((result.returncode, result.stdout), (0, b"hello\n"), result.stderr)
                stop = self.snapshot("one.json")["thread_stop"]
                self.assertEqual(stop, {"method": "none", "fallback_reason": "", "threads_scanned": 1,
                                        "threads_unscanned": 0})
                _, report = self.check_json("one.json")
                self.assertIsNone(report["thread_stop"]["warning"])

    def test_the_stop_works_from__exit_and_from_a_terminating_signal(self):
        self.run_program("_exit")
        self.assert_every_thread_scanned(self.snapshot(), "_exit")
        with subprocess.Popen([HEAPSNAP, "run", "--quiet", "--force", "-o", str(self.dir / "term.json"), "--",
                               PROGRAM, "wait"], cwd=self.dir, stdout=subprocess.PIPE) as process:
            try:
                self.assertEqual(process.stdout.readline(), b"done\n")
                program_pid = int(process.stdout.readline().split()[1])
                os.kill(program_pid, signal.SIGTERM)
                self.assertEqual(process.wait(timeout=60), -signal.SIGTERM)
            finally:
                process.kill()
                process.wait()
        self.assert_every_thread_scanned(self.snapshot("term.json"), "SIGTERM")

    def test_a_forked_child_and_its_parent_each_stop_their_own_threads(self):
        for attempt in range(RUNS):
            with self.subTest(run=attempt):
                for old in self.dir.glob("out*.json"):
                    old.unlink()
                result = self.run_program("fork")
                child_pid = int(re.search(rb"child (\d+)", result.stdout).group(1))
                parent, child = self.snapshot(), self.snapshot(f"out.{child_pid}.json")
                for name, snapshot in (("parent", parent), ("child", child)):
                    stop = snapshot["thread_stop"]
                    self.assertEqual((stop["method"], stop["threads_unscanned"]), ("ptrace", 0), name)
                parent_blocks = reachability_by_size(parent)
                child_blocks = reachability_by_size(child)
                for size in (SIGNAL_THREAD_STACK, SIGNAL_THREAD_REGISTER, WORKER_STACK):
                    self.assertEqual(parent_blocks.get(size), "reachable", ("parent", size))
                    self.assertEqual(child_blocks.get(size + 1000), "reachable", ("child", size + 1000))
                    # The parent's threads do not exist in the child: nothing there holds their blocks.
                    self.assertEqual(child_blocks.get(size), "direct", ("child", size))


if __name__ == "__main__":
    unittest.main()
