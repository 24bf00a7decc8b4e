"""`heapsnap top PID`, the live view of a running service: one table per refresh without a terminal
(`-b`), and on a pseudo-terminal a full screen with keys that sort and quit and a terminal given back
as it was, on `q` and on Ctrl-C. Paths come from the environment set by ctest.
"""
import os
import pty
import re
import select
import subprocess
import termios
import time
import unittest

from ctl_test import ServiceTestCase
from heapsnap_run_test import HEAPSNAP, run

CACHE_ENTRY = 256  # samples/service.cpp: a cache entry, 20 of them kept per phase
ENTRIES_PER_PHASE = 20


def tables(text):
    """The batch tables of `text`: per table, {where: (live, blocks, change, growth)} as printed."""
    result = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if len(lines) < 2 or not lines[0].startswith("heapsnap top: process"):
            continue
        rows = {}
        for line in lines[2:]:
            match = re.match(r"\s*(\S+ \S+)\s+(\d+)\s+(\S+ \S+)\s+(\S+ \S+)\s+(.*)$", line)
            if match:
                rows[match.group(5)] = match.groups()[:4]
        result.append(rows)
    return result


def size_of(text):
    """Bytes of a size as heapsnap prints it ("+5120 B", "15.0 KiB")."""
    number, unit = text.split()
    return round(float(number) * {"B": 1, "KiB": 1024, "MiB": 1024 ** 2}[unit])


def cache_row(table):
    return next((row for where, row in table.items() if re.search(r"service\.cpp:\d+ \(.*remember", where)), None)


class Top(ServiceTestCase):
    def top(self, pid, *args):
        return run([HEAPSNAP, "top", str(pid), *args], cwd=self.dir)

    def test_batch_mode_prints_a_table_per_refresh_with_growth_and_ends_with_the_process(self):
        service, pid = self.start_service("--dormant")
        self.phases(service, 2)
        idle = self.top(pid, "-b", "-n", "1")
        self.assertEqual(idle.returncode, 0, idle.stderr)
        self.assertIn(f"not tracing: start it with `heapsnap ctl {pid} start`", idle.stdout.decode())

        self.assertEqual(self.ctl(pid, "start").returncode, 0)
        self.phases(service, 1)
        top = subprocess.Popen([HEAPSNAP, "top", str(pid), "-d", "0.2"], cwd=self.dir, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: top.poll() is None and (top.kill(), top.wait()))
        first = top.stdout.readline()  # not at a terminal: batch mode without being asked
        self.assertTrue(first.startswith(f"heapsnap top: process {pid} (service), tracing 16 frames"), first)
        self.phases(service, 2)
        # Refreshes go on until one has seen both phases: the cache then grew by 40 entries since the first.
        text = first
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = top.stdout.readline()
            text += line
            found = [cache_row(table) for table in tables(text)]
            if found and found[-1] and found[-1][3] == "+10.0 KiB":
                break
        found = [cache_row(table) for table in tables(text)]
        self.assertEqual(found[0][:2], ("5120 B", str(ENTRIES_PER_PHASE)))  # the one traced phase
        self.assertEqual(found[-1][:2], ("15.0 KiB", str(3 * ENTRIES_PER_PHASE)))
        self.assertEqual(found[-1][3], "+10.0 KiB")
        # Each refresh's change is what the cache gained since the one before: together, the growth.
        self.assertEqual(sum(size_of(row[2]) for row in found[1:]), size_of(found[-1][3]))
        self.assertEqual(size_of(found[0][2]), 0)

        service.stdin.close()
        self.assertEqual(service.wait(timeout=60), 0)
        self.assertEqual(top.wait(timeout=10), 0)  # a clean end, never a hang
        self.assertRegex(top.stderr.read(), rf"heapsnap top: process {pid} (is not running|ended before it answered)")

    def test_limit_sort_and_grouping_options(self):
        service, pid = self.start_service("--control")
        self.phases(service, 3)
        result = self.top(pid, "-b", "-n", "1", "--limit", "1", "--sort", "blocks", "--by", "traceback")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.decode().splitlines()
        self.assertEqual(lines[1].split(), ["LIVE", "BLOCKS", "CHANGE", "GROWTH", "WHERE"])
        self.assertRegex(lines[2], r"remember.* < .*run_phase")  # the whole stack, most recent first
        self.assertRegex(lines[3], r"^\d+ other: ")
        self.assertEqual(self.top(pid, "--sort", "size").returncode, 2)
        self.assertEqual(self.top(pid, "-d", "0").returncode, 2)
        service.stdin.close()
        service.wait(timeout=60)

    def test_processes_that_cannot_be_watched_get_a_clear_message(self):
        gone = subprocess.Popen(["true"])
        gone.wait()
        result = self.top(gone.pid, "-b")
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"process {gone.pid} is not running".encode(), result.stderr)
        result = self.top(os.getpid(), "-b")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"is not running heapsnap with a control socket", result.stderr)


class TopOnATerminal(ServiceTestCase):
    def start_top(self, pid):
        """heapsnap top on a new pseudo-terminal of 30 rows by 200 columns: (process, master side, termios
        of the terminal before)."""
        master, slave = pty.openpty()
        termios.tcsetwinsize(slave, (30, 200))
        before = termios.tcgetattr(slave)
        top = subprocess.Popen([HEAPSNAP, "top", str(pid), "-d", "0.2"], cwd=self.dir, stdin=slave, stdout=slave,
                               stderr=slave, start_new_session=True,
                               preexec_fn=lambda: __import__("fcntl").ioctl(0, termios.TIOCSCTTY, 0))
        self.addCleanup(lambda: top.poll() is None and (top.kill(), top.wait()))
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        self.slave = slave
        return top, master, before

    def read_until(self, master, pattern, seconds=20):
        text = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    text += os.read(master, 65536)
                except OSError:
                    break
                if re.search(pattern, text, re.S):
                    return text
        self.fail(f"{pattern!r} never shown; the screen had: {text[-2000:]!r}")

    def assert_given_back(self, top, master, before):
        self.assertEqual(top.wait(timeout=10), 0)
        rest = b""
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            rest += chunk
        self.assertIn(b"\x1b[?1049l", rest)  # the alternate screen left
        self.assertIn(b"\x1b[?25h", rest)    # the cursor shown again
        after = termios.tcgetattr(self.slave)
        self.assertEqual(after[3] & (termios.ECHO | termios.ICANON), before[3] & (termios.ECHO | termios.ICANON))

    def test_keys_sort_and_quit_and_the_terminal_is_given_back(self):
        service, pid = self.start_service("--control")
        self.phases(service, 2)
        top, master, before = self.start_top(pid)
        screen = self.read_until(master, rb"sorted by live.*remember")
        self.assertIn(b"\x1b[?1049h", screen)  # the alternate screen
        self.assertIn(b"LIVE", screen)
        self.assertRegex(screen, rb"10\.0 KiB +40 ")  # the cache: two phases of 20 entries
        during = termios.tcgetattr(self.slave)
        self.assertEqual(during[3] & (termios.ECHO | termios.ICANON), 0)  # keys one at a time, no echo
        os.write(master, b"g")
        self.read_until(master, rb"sorted by growth")
        os.write(master, b"b")
        self.read_until(master, rb"sorted by blocks")
        os.write(master, b"q")
        self.assert_given_back(top, master, before)
        service.stdin.close()
        service.wait(timeout=60)

    def test_ctrl_c_gives_the_terminal_back(self):
        service, pid = self.start_service("--control")
        self.phases(service, 1)
        top, master, before = self.start_top(pid)
        self.read_until(master, rb"remember")
        os.write(master, b"\x03")  # the terminal sends SIGINT to top
        self.assert_given_back(top, master, before)
        service.stdin.close()
        service.wait(timeout=60)


if __name__ == "__main__":
    unittest.main()
