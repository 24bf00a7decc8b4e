"""heapsnap holds no file descriptor of the profiled program's: the program numbers its descriptors as
without heapsnap, and closing all of them breaks nothing. Paths come from the environment set by ctest."""
import json
import os
import signal
import unittest
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, HeapsnapTestCase, run

FAULTS_BIN = Path(os.environ["HEAPSNAP_FAULTS_BIN"])
OWN_FILE_TEXT = "written by the program\nand again after the snapshot\n"


class Descriptors(HeapsnapTestCase):
    def test_the_program_gets_the_same_descriptor_numbers_as_without_heapsnap(self):
        # profile() asserts byte-identical output with and without heapsnap, exit snapshot included.
        for output, extra in (("plain.json", ()), ("service.json", ("--signal", "USR1", "--interval", "100000"))):
            with self.subTest(options=extra):
                result = self.profile(str(FAULTS_BIN / "heapsnap_descriptor_numbers"), output=output, extra=extra)
                self.assertEqual(result.stdout.decode(), "open at start: 0 1 2\n"
                                                         "opened at start: 3\n"
                                                         "pipe: 4 5\n"
                                                         "opened after starting threads: 6\n"
                                                         "opened by a thread: 7\n"
                                                         "opened at the end: 8\n")
                self.assertEqual(self.snapshot(output)["process"]["reason"], "exit")

    def closing_program(self, *options, snapshot_to_await, signal_to_raise=0):
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "s.json"), *options, "--",
                      str(FAULTS_BIN / "heapsnap_closes_every_descriptor"), str(self.dir / snapshot_to_await),
                      str(int(signal_to_raise))], cwd=self.dir)
        self.assertEqual(result.returncode, -signal.SIGTERM, result.stderr)
        own_files, ending = result.stdout.decode().splitlines()
        self.assertEqual(ending, "ending by SIGTERM")
        for i in range(4):  # heapsnap wrote nothing into the files that took its old descriptor numbers
            self.assertEqual((self.dir / f"own-{i}.txt").read_text(), OWN_FILE_TEXT)
        self.assertEqual(json.loads((self.dir / "s.json").read_text())["process"]["reason"], "SIGTERM")
        return own_files, json.loads((self.dir / snapshot_to_await).read_text())

    def test_a_program_that_closes_every_descriptor_still_gets_signal_snapshots(self):
        own_files, snapshot = self.closing_program("--signal", "USR1", snapshot_to_await="s.snap-1.json",
                                                   signal_to_raise=signal.SIGUSR1)
        self.assertEqual(own_files, "own files: 3 4 5 6")  # the numbers heapsnap's pipes had before
        self.assertEqual(snapshot["process"]["reason"], "signal")

    def test_a_program_that_closes_every_descriptor_still_gets_interval_snapshots(self):
        # Not the files' numbers: an interval snapshot in flight opens files (the snapshot's own, for
        # one) and may briefly hold a low number when the program opens its own.
        _, snapshot = self.closing_program("--interval", "20", snapshot_to_await="s.snap-1.json")
        self.assertEqual(snapshot["process"]["reason"], "interval")


if __name__ == "__main__":
    unittest.main()
