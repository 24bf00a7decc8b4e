"""The exiting thread's stack is scanned from where the program began to end (exit or _exit called,
main returned), as LeakSanitizer does: dead frames below never hide a leak, live ones always count,
and so do the callee-saved registers at the call. Verdicts must not change from run to run.
"""
import os
import unittest
from pathlib import Path

from heapsnap_run_test import HeapsnapTestCase

PROGRAM = Path(os.environ["HEAPSNAP_FAULTS_BIN"]) / "heapsnap_exit_frames"
RUNS = 5


class ExitFrames(HeapsnapTestCase):
    def leaked(self, mode):
        """(blocks, bytes) leaked, the same in each of RUNS runs; asserts the exit status too."""
        verdicts = set()
        for run_number in range(RUNS):
            output = f"{mode}-{run_number}.json"
            result = self.profile(str(PROGRAM), mode, output=output)
            self.assertEqual(result.returncode, {"return": 0, "exit": 3, "_exit": 4, "register": 5}[mode])
            traces = self.snapshot(output)["traces"]
            leaked = [t for t in traces if t["reachability"] in ("direct", "indirect", "cycle")]
            verdicts.add((sum(t["count"] for t in leaked), sum(t["size"] for t in leaked)))
        self.assertEqual(len(verdicts), 1, f"{mode}: verdicts differ between runs: {verdicts}")
        return verdicts.pop()

    def test_main_returning_leaves_its_frame_dead(self):
        self.assertEqual(self.leaked("return"), (2, 48))

    def test_exit_keeps_the_callers_frames_live(self):
        self.assertEqual(self.leaked("exit"), (1, 40))

    def test_immediate_exit_keeps_the_callers_frames_live(self):
        self.assertEqual(self.leaked("_exit"), (1, 40))

    @unittest.skipUnless(os.uname().machine == "x86_64", "the program puts the pointer in rbx")
    def test_a_pointer_in_a_callee_saved_register_at_exit_is_a_root(self):
        self.assertEqual(self.leaked("register"), (1, 40))


if __name__ == "__main__":
    unittest.main()
