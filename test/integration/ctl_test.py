"""Profiling a service that is already running: `heapsnap run --dormant` starts the service sample on
heapsnap's allocator without tracing, and `heapsnap ctl` switches tracing on and off from outside and
takes snapshots through the process's control socket. Paths come from the environment set by ctest.
"""
import json
import os
import socket
import subprocess
import time
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, SAMPLES, HeapsnapTestCase, run

SOCKETS = Path(os.environ["XDG_RUNTIME_DIR"]) / "heapsnap" if os.environ.get("XDG_RUNTIME_DIR", "").startswith("/") \
    else Path(f"/tmp/heapsnap-{os.getuid()}")


class ServiceTestCase(HeapsnapTestCase):
    """The service sample under heapsnap, fed one phase at a time, and `heapsnap ctl` on it."""

    def start_service(self, *options, output="exit.json", environment=None):
        """The service sample reading one phase per line of its standard input, under heapsnap."""
        service = subprocess.Popen([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / output), *options, "--",
                                    str(SAMPLES / "service"), "-"], cwd=self.dir, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
        self.addCleanup(service.stdout.close)
        self.addCleanup(lambda: service.poll() is None and (service.kill(), service.wait()))
        banner = service.stdout.readline().decode()  # "service: pid N"
        self.assertTrue(banner.startswith("service: pid "), banner)
        return service, int(banner.split()[-1])

    def phases(self, service, count):
        for _ in range(count):
            service.stdin.write(b"\n")
            service.stdin.flush()
            self.assertTrue(service.stdout.readline().startswith(b"phase "))

    def ctl(self, pid, *args):
        return run([HEAPSNAP, "ctl", str(pid), *args], cwd=self.dir)

    def status(self, pid):
        result = self.ctl(pid, "status")
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)


class Ctl(ServiceTestCase):
    def test_a_dormant_service_is_started_snapshotted_and_stopped_from_outside(self):
        service, pid = self.start_service("--dormant")
        socket_path = SOCKETS / f"{pid}.sock"
        self.assertTrue(socket_path.is_socket())
        self.assertEqual(socket_path.stat().st_mode & 0o777, 0o600)
        self.assertEqual(SOCKETS.stat().st_mode & 0o777, 0o700)
        self.phases(service, 3)
        self.assertEqual(self.status(pid)["tracing"], False)
        refused = self.ctl(pid, "snapshot", "-o", "early.json")
        self.assertEqual(refused.returncode, 1)
        self.assertIn(b"tracing is not started", refused.stderr)
        self.assertFalse((self.dir / "early.json").exists())

        started = self.ctl(pid, "start", "--depth", "8")
        self.assertEqual(started.returncode, 0, started.stderr)
        status = self.status(pid)
        self.assertEqual((status["pid"], status["tracing"], status["depth"]), (pid, True, 8))
        self.phases(service, 4)
        taken = self.ctl(pid, "snapshot", "-o", "mid.json", "--leaks")
        self.assertEqual(taken.returncode, 0, taken.stderr)
        snapshot = json.loads((self.dir / "mid.json").read_text())
        self.assertEqual((snapshot["process"]["reason"], snapshot["process"]["pid"]), ("ctl", pid))
        self.assertTrue(snapshot["leak_analysis"])
        self.assertEqual(snapshot["traceback_limit"], 8)
        # Only what the four traced phases allocated and kept: 20 cache entries of 256 B a phase.
        cache = sum(trace["size"] for trace in snapshot["traces"]
                    if any(snapshot["frames"][f]["function"].endswith("remember") or "remember(" in snapshot["frames"][f]["function"]
                           for f in snapshot["tracebacks"][trace["traceback"]]["frames"][:1]))
        self.assertEqual(cache, 4 * 20 * 256)
        # What the three dormant phases kept is one site of its own, at least their 60 cache entries.
        before = [trace for trace in snapshot["traces"] if trace.get("before_tracing")]
        self.assertEqual(len({trace["traceback"] for trace in before}), 1)
        frames = snapshot["tracebacks"][before[0]["traceback"]]["frames"]
        self.assertEqual([snapshot["frames"][f]["filename"] for f in frames], ["<allocated before tracing started>"])
        self.assertGreaterEqual(sum(trace["size"] for trace in before), 3 * 20 * 256)
        # The leak report counts it apart, and no gate counts it.
        report = json.loads(self.check("mid.json", "--format", "json").stdout)
        self.assertGreaterEqual(report["before_tracing"]["size"], 3 * 20 * 256)
        self.assertEqual(report["totals"]["count"], 0)  # the service keeps everything reachable
        self.assertTrue(report["gate"]["passed"])
        self.assertIn(b"Allocated before tracing started: ", self.check("mid.json").stdout)
        again = self.ctl(pid, "snapshot", "-o", "mid.json")
        self.assertEqual(again.returncode, 2)  # an existing file is refused before anything is asked

        stopped = self.ctl(pid, "stop")
        self.assertEqual(stopped.returncode, 0, stopped.stderr)
        self.assertEqual(self.status(pid)["tracing"], False)
        self.assertEqual(self.ctl(pid, "start").returncode, 0)
        self.phases(service, 1)
        service.stdin.close()
        self.assertEqual(service.wait(timeout=60), 0)
        self.assertFalse(socket_path.exists())  # removed at exit
        exit_snapshot = json.loads((self.dir / "exit.json").read_text())
        self.assertEqual(exit_snapshot["process"]["reason"], "exit")

    def test_a_traced_run_opens_the_socket_only_when_asked(self):
        service, pid = self.start_service()
        missing = self.ctl(pid, "status")
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"is not running heapsnap with a control socket", missing.stderr)
        service.stdin.close()
        service.wait(timeout=60)
        service, pid = self.start_service("--control", output="controlled.json")
        self.assertEqual(self.status(pid)["tracing"], True)
        service.stdin.close()
        self.assertEqual(service.wait(timeout=60), 0)

    def test_the_control_thread_is_stopped_and_scanned_like_any_other(self):
        # Stopped by signals (where ptrace is not allowed), a thread that blocked the stop signal would
        # make the verdict incomplete; the control thread lets that one signal through.
        service, pid = self.start_service("--dormant", environment=dict(os.environ, HEAPSNAP_STOP_METHOD="signals"))
        self.assertEqual(self.ctl(pid, "start").returncode, 0)
        self.phases(service, 2)
        service.stdin.close()
        self.assertEqual(service.wait(timeout=60), 0)
        stop = json.loads((self.dir / "exit.json").read_text())["thread_stop"]
        self.assertEqual((stop["method"], stop["threads_unscanned"]), ("signals", 0))
        self.assertGreaterEqual(stop["threads_scanned"], 1)

    def test_processes_that_cannot_be_controlled_get_a_clear_message(self):
        gone = subprocess.Popen(["true"])
        gone.wait()
        result = self.ctl(gone.pid, "status")
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"process {gone.pid} is not running".encode(), result.stderr)

        # A stale socket of a dead process is cleaned up.
        SOCKETS.mkdir(mode=0o700, exist_ok=True)
        stale = SOCKETS / f"{gone.pid}.sock"
        with socket.socket(socket.AF_UNIX) as leftover:
            leftover.bind(str(stale))
        self.assertEqual(self.ctl(gone.pid, "status").returncode, 1)
        self.assertFalse(stale.exists())

        plain = subprocess.Popen(["sleep", "30"])
        self.addCleanup(plain.wait)
        self.addCleanup(plain.kill)
        result = self.ctl(plain.pid, "start")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"is not running heapsnap with a control socket", result.stderr)

        usage = self.ctl(plain.pid)
        self.assertEqual(usage.returncode, 2)

    @unittest.skipUnless(os.getuid() == 0, "needs root to run `ctl` as another user")
    def test_another_users_process_is_refused(self):
        service, pid = self.start_service("--dormant")
        result = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", HEAPSNAP, "ctl", str(pid), "start"],
                     cwd="/")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"permission denied: process {pid} belongs to another user".encode(), result.stderr)
        self.assertEqual(self.status(pid)["tracing"], False)
        service.stdin.close()
        service.wait(timeout=60)


if __name__ == "__main__":
    unittest.main()
