"""Symbols from where distributions keep them: a program stripped of every symbol runs under heapsnap,
its snapshot records each unnamed frame's module build-id and offset, and `heapsnap symbolize` names the
frames later from the split-off debug file: in a debug directory, or from a local debuginfod server
(elfutils' `debuginfod`) through libdebuginfod, within a time budget that an unanswering server cannot
stretch. Paths come from the environment set by ctest (see CMakeLists.txt next to this file).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, SOURCE, HeapsnapTestCase, line_of, run, short_name

STRIPPED = Path(os.environ["HEAPSNAP_STRIPPED"])
DEBUG_FILE = Path(str(STRIPPED) + ".debug")
LEAKY_SOURCE = SOURCE / "samples" / "leaky.cpp"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Symbolize(HeapsnapTestCase):
    def setUp(self):
        super().setUp()
        self.profile(str(STRIPPED))
        self.build_id = None
        for frame in self.snapshot()["frames"]:
            if frame["module"].endswith(STRIPPED.name) and "build_id" in frame:
                self.build_id = frame["build_id"]
        self.assertIsNotNone(self.build_id, "no frame of the stripped program carries its build-id")
        self.buffer_line = line_of(LEAKY_SOURCE, "LEAK SITE 1")
        self.record_line = line_of(LEAKY_SOURCE, "LEAK SITE 2")
        # Nothing of this run may read the machine's own debuginfod configuration or cache.
        self.environment = {key: value for key, value in os.environ.items() if not key.startswith("DEBUGINFOD_")}
        self.environment["DEBUGINFOD_CACHE_PATH"] = str(self.dir / "debuginfod-cache")

    def leak_tops(self, snapshot_name):
        """(function, source file name, line) of each leak's allocating frame, as `check` reports it."""
        result = self.check(snapshot_name, "--format", "json")
        self.assertEqual(result.returncode, 1, result.stderr)
        return sorted((short_name(leak["traceback"][0]["function"]), leak["traceback"][0]["filename"].rsplit("/", 1)[-1],
                       leak["traceback"][0]["lineno"]) for leak in json.loads(result.stdout)["leaks"])

    def symbolize(self, *args, output="named.json", environment=None):
        return run([HEAPSNAP, "symbolize", "out.json", "-o", output, *args], cwd=self.dir,
                   env=environment or self.environment)

    def assert_named(self, snapshot_name):
        """The leaks' allocating frames are named, in the file itself and in what `check` reports."""
        expected = [("make_buffer", "leaky.cpp", self.buffer_line), ("make_record", "leaky.cpp", self.record_line)]
        self.assertEqual(self.leak_tops(snapshot_name), expected)
        named = {(short_name(f["function"]), f["filename"].rsplit("/", 1)[-1], f["lineno"])
                 for f in self.snapshot(snapshot_name)["frames"]}
        self.assertTrue(set(expected) <= named, named)

    def test_a_stripped_program_leaves_offsets_that_a_debug_directory_names(self):
        tops = self.leak_tops("out.json")
        self.assertTrue(all(line == 0 and function.startswith("0x") for function, _, line in tops), tops)
        for frame in self.snapshot()["frames"]:
            if frame["lineno"] == 0 and frame["module"].endswith(STRIPPED.name):
                self.assertEqual(frame["build_id"], self.build_id)
                if frame["function"].startswith("0x"):  # unnamed (others have an exported symbol's name)
                    self.assertEqual(frame["function"], frame["offset"])  # a PIE's offsets are its file addresses

        debug_directory = self.dir / "debug"
        target = debug_directory / ".build-id" / self.build_id[:2] / (self.build_id[2:] + ".debug")
        target.parent.mkdir(parents=True)
        shutil.copy(DEBUG_FILE, target)
        result = self.symbolize("--debug-dir", str(debug_directory), "--no-debuginfod")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stderr.decode(), r"heapsnap: named \d+ call sites")
        self.assert_named("named.json")

        # Without the file the frames stay as they were, and the command says which module lacked one.
        result = self.symbolize("--no-debuginfod", output="unnamed.json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"no debug file for: {STRIPPED}", result.stderr.decode())
        self.assertEqual(self.leak_tops("unnamed.json"), tops)

    def test_a_gnu_debuglink_beside_the_program_is_followed(self):
        # A copy of the program that names its debug file, in a directory of its own with that file.
        installed = self.dir / "installed"
        installed.mkdir()
        shutil.copy(DEBUG_FILE, installed / "leaky.debug")
        program = installed / "leaky"
        result = run(["objcopy", f"--add-gnu-debuglink={installed / 'leaky.debug'}", str(STRIPPED), str(program)])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.profile(str(program), output="linked.json")
        unnamed = {f["function"] for f in self.snapshot("linked.json")["frames"] if f["module"] == str(program)}
        self.assertFalse(any("make_buffer" in name for name in unnamed), unnamed)
        # The commands that read a snapshot name such frames from local debug files as they read it...
        expected = [("make_buffer", "leaky.cpp", self.buffer_line), ("make_record", "leaky.cpp", self.record_line)]
        self.assertEqual(self.leak_tops("linked.json"), expected)
        # ... and `symbolize` writes the names into the file.
        result = run([HEAPSNAP, "symbolize", "linked.json", "-o", "named.json", "--no-debuginfod"], cwd=self.dir,
                     env=self.environment)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_named("named.json")

    def test_libdebuginfod_is_loaded_only_to_fetch(self):
        """libdebuginfod brings libcurl and 30 libraries: a start of the command line that fetches
        nothing (`heapsnap run` around each test of a suite) must not load them."""
        def loaded_libraries(*args, environment):
            result = run([HEAPSNAP, *args], cwd=self.dir, env=dict(environment, LD_DEBUG="files"))
            return re.findall(r"file=(\S+) \[0\];  (?:needed|dynamically loaded) by", result.stderr.decode())
        loaded = loaded_libraries("stats", "out.json", environment=self.environment)
        self.assertTrue(any("libdw" in name for name in loaded), loaded)  # the check sees what is loaded
        self.assertFalse([name for name in loaded if "debuginfod" in name or "curl" in name], loaded)
        # Fetching loads it (here from a port where no server answers).
        url = f"http://127.0.0.1:{free_port()}"
        loaded = loaded_libraries("symbolize", "out.json", "-o", "named.json", "--debuginfod-timeout", "1",
                                  environment=dict(self.environment, DEBUGINFOD_URLS=url))
        self.assertTrue(any("libdebuginfod" in name for name in loaded), loaded)

    def test_a_local_debuginfod_server_provides_the_debug_file(self):
        served = self.dir / "served"
        served.mkdir()
        shutil.copy(DEBUG_FILE, served / DEBUG_FILE.name)
        port = free_port()
        server = subprocess.Popen(["debuginfod", "-F", str(served), "-p", str(port), "-d", str(self.dir / "index.sqlite")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(server.wait)
        self.addCleanup(server.terminate)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:  # the server indexes the directory in the background after it starts
            try:
                with urllib.request.urlopen(f"{url}/buildid/{self.build_id}/debuginfo", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            self.assertLess(time.monotonic(), deadline, "debuginfod did not serve the debug file within 60 s")
            time.sleep(0.2)
        shutil.rmtree(self.dir / "debuginfod-cache", ignore_errors=True)  # the probe above filled nothing: fetched anew

        result = self.symbolize(environment=dict(self.environment, DEBUGINFOD_URLS=url))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("debug files from debuginfod", result.stderr.decode())
        self.assert_named("named.json")
        self.assertTrue(any((self.dir / "debuginfod-cache").rglob("debuginfo")), "libdebuginfod's cache holds the file")

        # --in-place replaces the snapshot itself.
        result = run([HEAPSNAP, "symbolize", "out.json", "--in-place"], cwd=self.dir,
                     env=dict(self.environment, DEBUGINFOD_URLS=url))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_named("out.json")

    def test_a_server_that_never_answers_costs_only_the_time_budget(self):
        with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
            silent.bind(("127.0.0.1", 0))
            silent.listen(16)
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            started = time.monotonic()
            result = self.symbolize("--debuginfod-timeout", "1", environment=dict(self.environment, DEBUGINFOD_URLS=url))
            elapsed = time.monotonic() - started
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertLess(elapsed, 30)  # far below libdebuginfod's own 90 s default; the budget is 1 s
        self.assertIn("debuginfod: the time budget (1000 ms) was spent", result.stderr.decode())
        tops = self.leak_tops("named.json")
        self.assertTrue(all(line == 0 for _, _, line in tops), tops)

    def test_libc_frames_are_named_from_libc6_dbg_as_every_command_reads_them(self):
        # libc is stripped; Debian's libc6-dbg (installed by scripts/setup) has its debug file by build-id.
        self.profile(str(Path(os.environ["HEAPSNAP_SAMPLES_BIN"]) / "leaky"), output="leaky.json")
        raw = {f["function"] for f in self.snapshot("leaky.json")["frames"] if "libc.so" in f["module"]}
        self.assertNotIn("__libc_start_call_main", raw)  # at exit: dynamic symbols and offsets only
        result = self.check("leaky.json", "--format", "json")
        frames = [frame for leak in json.loads(result.stdout)["leaks"] for frame in leak["traceback"]]
        named = {(frame["function"], frame["filename"].rsplit("/", 1)[-1]) for frame in frames}
        self.assertIn(("__libc_start_call_main", "libc_start_call_main.h"), named)

    def test_bad_input_is_refused_with_a_clear_message(self):
        result = run([HEAPSNAP, "symbolize", "out.json"], cwd=self.dir)
        self.assertEqual(result.returncode, 2)
        self.assertIn("give either -o FILE or --in-place", result.stderr.decode())
        (self.dir / "taken.json").write_text("keep")
        result = run([HEAPSNAP, "symbolize", "out.json", "-o", "taken.json", "--no-debuginfod"], cwd=self.dir)
        self.assertEqual(result.returncode, 2)
        self.assertEqual((self.dir / "taken.json").read_text(), "keep")
        result = run([HEAPSNAP, "symbolize", "missing.json", "-o", "x.json"], cwd=self.dir)
        self.assertEqual(result.returncode, 2)
        self.assertIn("missing.json", result.stderr.decode())


if __name__ == "__main__":
    unittest.main()
