"""The profiled program under faults: terminating signals, SIGKILL, allocation from a signal handler,
and every way of starting a child process. Paths come from the environment set by ctest."""
import json
import os
import signal
import subprocess
import time
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, SOURCE, HeapsnapTestCase, line_of_code, run, short_name

FAULTS_BIN = Path(os.environ["HEAPSNAP_FAULTS_BIN"])


class ProcessFaults(HeapsnapTestCase):
    def test_a_terminating_signal_leaves_a_leak_analysed_snapshot_and_the_same_status(self):
        for name in ("TERM", "INT", "HUP"):
            with self.subTest(signal=name):
                output = self.dir / f"{name}.json"
                result = run([HEAPSNAP, "run", "--quiet", "-o", str(output), "--",
                              "sh", "-c", f"echo before; kill -{name} $$; echo after"], cwd=self.dir)
                self.assertEqual(result.returncode, -getattr(signal, "SIG" + name))
                self.assertEqual(result.stdout, b"before\n")
                snapshot = json.loads(output.read_text())
                self.assertEqual(snapshot["process"]["reason"], "SIG" + name)
                self.assertTrue(snapshot["leak_analysis"])
                stats = run([HEAPSNAP, "stats", str(output)])
                self.assertEqual(stats.returncode, 0, stats.stderr)

    def test_a_program_that_handles_sigterm_itself_keeps_its_handler(self):
        program = ("import signal, sys\n"
                   "signal.signal(signal.SIGTERM, lambda *_: (print('handled', flush=True), sys.exit(3)))\n"
                   "signal.raise_signal(signal.SIGTERM)\n")
        self.profile("/usr/bin/python3", "-c", program)
        self.assertEqual(self.snapshot()["process"]["reason"], "exit")

    def test_a_program_ending_through__exit_leaves_its_snapshot(self):
        self.profile("/usr/bin/python3", "-c", "import os; data = [bytes(64) for _ in range(500)]; os._exit(5)")
        self.assertEqual(self.snapshot()["process"]["reason"], "_exit")
        self.profile("sh", "-c", "exit 7", output="sh.json")  # dash ends through _exit
        self.assertEqual(self.snapshot("sh.json")["process"]["reason"], "_exit")

    def test_sigkill_leaves_every_interval_snapshot_whole(self):
        output = self.dir / "k.json"
        process = subprocess.Popen(
            [HEAPSNAP, "run", "--quiet", "--interval", "20", "-o", str(output), "--", "/usr/bin/python3", "-c",
             "import os, time\nprint(os.getpid(), flush=True)\nblocks = []\n"
             "while True:\n    blocks.append(bytearray(10000))\n    time.sleep(0.001)\n"],
            cwd=self.dir, stdout=subprocess.PIPE)
        try:
            pid = int(process.stdout.readline())
            deadline = time.monotonic() + 60
            while len(list(self.dir.glob("k.snap-*.json"))) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(pid, signal.SIGKILL)
            self.assertEqual(process.wait(timeout=60), -signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
        numbered = sorted(self.dir.glob("k.snap-*.json"))
        self.assertGreaterEqual(len(numbered), 5)
        for path in numbered:  # each one complete: written to a temporary file and renamed
            self.assertEqual(json.loads(path.read_text())["process"]["reason"], "interval", path)
        self.assertFalse(output.exists())  # no exit snapshot: SIGKILL cannot be caught

    def test_allocating_in_a_signal_handler_does_not_deadlock(self):
        result = self.profile(str(FAULTS_BIN / "heapsnap_signal_allocation"))
        self.assertEqual(result.returncode, 0)
        self.assertTrue(result.stdout.startswith(b"checksum "))
        stats = run([HEAPSNAP, "stats", str(self.dir / "out.json")])
        self.assertEqual(stats.returncode, 0, stats.stderr)

    def test_children_started_every_way_write_their_own_snapshots(self):
        # Python 3.11 starts subprocess children with vfork, os.posix_spawn with clone(CLONE_VFORK),
        # os.system with fork+exec of /bin/sh, and os.fork without exec keeps running Python.
        program = ("import os, subprocess, sys\n"
                   "subprocess.run(['echo', 'vfork'], check=True)\n"
                   "pid = os.posix_spawn('/bin/echo', ['echo', 'posix_spawn'], os.environ)\n"
                   "os.waitpid(pid, 0)\n"
                   "os.system('echo system')\n"
                   "sys.stdout.flush()\n"
                   "child = os.fork()\n"
                   "if child == 0:\n"
                   "    data = [bytes(100) for _ in range(1000)]\n"
                   "    print('forked child', len(data), flush=True)\n"
                   "    sys.exit(0)\n"
                   "os.waitpid(child, 0)\n"
                   "print('parent done')\n")
        result = self.profile("/usr/bin/python3", "-c", program)
        self.assertEqual(result.stdout.decode().split(),
                         ["vfork", "posix_spawn", "system", "forked", "child", "1000", "parent", "done"])
        children = sorted(self.dir.glob("out.*.json"))
        # echo (vfork), echo (posix_spawn), sh and its echo (system), the forked Python child.
        self.assertGreaterEqual(len(children), 4, [p.name for p in children])
        pids = {self.snapshot()["process"]["pid"]}
        for path in children:
            snapshot = json.loads(path.read_text())
            self.assertEqual(path.name, f"out.{snapshot['process']['pid']}.json")
            pids.add(snapshot["process"]["pid"])
            check = run([HEAPSNAP, "stats", str(path)])
            self.assertEqual(check.returncode, 0, check.stderr)
        self.assertEqual(len(pids), len(children) + 1)


    def test_allocation_edge_cases_behave_as_with_glibc(self):
        # profile() asserts the same output and status with and without heapsnap.
        result = self.profile(str(FAULTS_BIN / "heapsnap_allocation_edges"))
        self.assertEqual(result.returncode, 0)
        lines = result.stdout.decode().splitlines()
        self.assertGreater(len(lines), 15)
        for line in lines:
            self.assertTrue(line.endswith(" yes"), line)

    def test_a_leak_through_an_unloaded_plugin_still_names_the_plugin(self):
        plugin = os.environ["HEAPSNAP_PLUGIN"]
        result = self.profile(str(FAULTS_BIN / "heapsnap_dlclose_program"), plugin)
        self.assertEqual(result.stdout, b"leaked through the plugin: yes\nplugin unloaded: yes\n")
        check = run([HEAPSNAP, "check", "out.json", "--format", "json"], cwd=self.dir)
        leaks = json.loads(check.stdout)["leaks"]
        line = line_of_code(SOURCE / "test" / "integration" / "plugin.cpp", "// PLUGIN LEAK")
        sites = [(short_name(leak["traceback"][0]["function"]), leak["traceback"][0]["filename"].rsplit("/", 1)[-1],
                  leak["traceback"][0]["lineno"], leak["size"]) for leak in leaks]
        self.assertIn(("plugin_leak", "plugin.cpp", line, 77), sites)

    def test_double_and_invalid_frees_are_refused_and_reported_with_their_stacks(self):
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "bad.json"), "--",
                      str(FAULTS_BIN / "heapsnap_bad_free")], cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)  # glibc would have aborted
        self.assertEqual(result.stdout, b"still running\n")
        source = SOURCE / "test" / "integration" / "bad_free.cpp"
        free_line = line_of_code(source, "// BAD FREE HERE")
        global_line = line_of_code(source, "// FREE OF A GLOBAL")
        stack_line = line_of_code(source, "// FREE OF A STACK ARRAY")
        realloc_line = line_of_code(source, "// REALLOC OF A GLOBAL")
        allocation_line = line_of_code(source, "// BAD FREE ALLOCATION")
        check = run([HEAPSNAP, "check", "bad.json", "--format", "json"], cwd=self.dir)
        self.assertEqual(check.returncode, 1, check.stderr)
        report = json.loads(check.stdout)
        self.assertEqual(report["totals"]["free_errors"], 5)
        self.assertIn("5 bad frees (double or invalid) exceed --max-free-errors 0", report["gate"]["reasons"])
        errors = {}
        for error in report["free_errors"]:
            top = error["freed_at"][0]
            self.assertEqual(top["filename"].rsplit("/", 1)[-1], "bad_free.cpp")
            self.assertEqual(error["count"], 1)
            errors[(error["kind"], top["lineno"], short_name(top["function"]))] = error
        self.assertEqual(set(errors), {
            ("double_free", free_line, "free_block"),          # the same block twice
            ("invalid_free", free_line, "free_block"),         # into a block
            ("invalid_free", global_line, "free_global"),      # outside the heap
            ("invalid_free", stack_line, "free_stack_array"),  # outside the heap
            ("invalid_free", realloc_line, "realloc_global"),  # realloc of memory never allocated
        })
        allocated = errors[("double_free", free_line, "free_block")]["allocated_at"]
        self.assertEqual((allocated[0]["filename"].rsplit("/", 1)[-1], allocated[0]["lineno"]),
                         ("bad_free.cpp", allocation_line))
        for kind, line, function in errors:
            if kind == "invalid_free":
                self.assertIsNone(errors[(kind, line, function)]["allocated_at"])
        text = run([HEAPSNAP, "check", "bad.json"], cwd=self.dir).stdout.decode()
        self.assertIn(": double free\n", text)
        self.assertIn(": free of a pointer that was not allocated\n", text)
        self.assertIn("the block was allocated at", text)
        allowed = run([HEAPSNAP, "check", "bad.json", "--max-free-errors", "5", "--max-leaked-blocks", "100",
                       "--max-leaked-bytes", "100000"], cwd=self.dir)
        self.assertEqual(allowed.returncode, 0, allowed.stdout)

if __name__ == "__main__":
    unittest.main()
