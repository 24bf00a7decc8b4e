"""Function names in snapshots as the program spells them. Paths come from the environment set by ctest."""
import os
import unittest
from pathlib import Path

from heapsnap_run_test import HeapsnapTestCase

FAULTS_BIN = Path(os.environ["HEAPSNAP_FAULTS_BIN"])


class SymbolNames(HeapsnapTestCase):
    def test_c_functions_named_like_builtin_types_keep_their_names(self):
        result = self.profile(str(FAULTS_BIN / "heapsnap_one_letter_names"))
        self.assertEqual(result.stdout, b"allocated\n" * 4)
        snapshot = self.snapshot()
        allocating_function = {}
        for trace in snapshot["traces"]:
            top_frame = snapshot["frames"][snapshot["tracebacks"][trace["traceback"]]["frames"][0]]
            allocating_function.setdefault(trace["size"], []).append(top_frame["function"])
        self.assertEqual(allocating_function[101], ["f"])  # not "float"
        self.assertEqual(allocating_function[102], ["i"])  # not "int"
        self.assertEqual(allocating_function[103], ["d"])  # not "double"
        self.assertEqual(allocating_function[104], ["names::make_record(int)"])


if __name__ == "__main__":
    unittest.main()
