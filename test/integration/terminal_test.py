"""Colour and progress reach a terminal only: never a pipe, a file, or a JSON consumer."""
import os
import pty
import shutil
import subprocess
import unittest

from heapsnap_run_test import HEAPSNAP, SAMPLES, HeapsnapTestCase, run


def run_on_terminal(args, cwd, env=None):
    """Runs `args` with stdout and stderr on a new pseudo-terminal; returns (status, everything shown)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the program closed its side
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=120), shown


class Terminal(HeapsnapTestCase):
    def setUp(self):
        super().setUp()
        self.profile(str(SAMPLES / "leaky"), output="leaky.json")

    def test_the_check_verdict_is_coloured_on_a_terminal_only(self):
        status, shown = run_on_terminal([HEAPSNAP, "check", "leaky.json"], self.dir)
        self.assertEqual(status, 1)
        self.assertIn(b"heapsnap check: \x1b[1;31mFAILED\x1b[0m", shown)
        piped = self.check("leaky.json")
        self.assertIn(b"heapsnap check: FAILED\n", piped.stdout)
        self.assertNotIn(b"\x1b", piped.stdout + piped.stderr)
        env = dict(os.environ, NO_COLOR="1")
        status, shown = run_on_terminal([HEAPSNAP, "check", "leaky.json"], self.dir, env=env)
        self.assertNotIn(b"\x1b", shown)
        status, shown = run_on_terminal([HEAPSNAP, "check", "leaky.json", "--format", "json"], self.dir)
        self.assertNotIn(b"\x1b", shown)
        status, shown = run_on_terminal([HEAPSNAP, "check", "leaky.json", "-o", "r.txt"], self.dir)
        self.assertNotIn(b"\x1b", (self.dir / "r.txt").read_bytes())

    def test_progress_while_reading_snapshots_on_a_terminal_only(self):
        names = []
        for i in range(4):
            shutil.copy(self.dir / "leaky.json", self.dir / f"s{i}.json")
            names.append(f"s{i}.json")
        env = dict(os.environ, HEAPSNAP_PROGRESS_DELAY_MS="0")
        status, shown = run_on_terminal([HEAPSNAP, "trend", *names], self.dir, env=env)
        self.assertEqual(status, 0, shown)
        self.assertIn(b"heapsnap: reading snapshot 1 of 4: s0.json", shown)
        self.assertIn(b"\r\x1b[K", shown)  # the progress line is erased before the report
        piped = run([HEAPSNAP, "trend", *names], cwd=self.dir, env=env)
        self.assertEqual(piped.returncode, 0)
        self.assertNotIn(b"reading snapshot", piped.stderr)
        self.assertNotIn(b"\x1b", piped.stdout + piped.stderr)


if __name__ == "__main__":
    unittest.main()
