"""End-to-end tests: real, unmodified programs under `heapsnap run`, and the CLI on what they leave.

Paths come from the environment set by ctest (see CMakeLists.txt next to this file).
"""
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

HEAPSNAP = os.environ["HEAPSNAP_BIN"]
SAMPLES = Path(os.environ["HEAPSNAP_SAMPLES_BIN"])
SOURCE = Path(os.environ["HEAPSNAP_SOURCE_DIR"])


def line_of(source: Path, marker: str) -> int:
    """The line of `source` that carries `marker`, so tests never hard-code line numbers."""
    for number, text in enumerate(source.read_text().splitlines(), start=1):
        if marker in text:
            return number
    raise AssertionError(f"{marker!r} not in {source}")


def line_of_code(source: Path, marker: str) -> int:
    """The line of `source` whose code carries the comment `marker` (not a comment line naming it)."""
    for number, text in enumerate(source.read_text().splitlines(), start=1):
        if marker in text and not text.lstrip().startswith("//"):
            return number
    raise AssertionError(f"no code line marked {marker!r} in {source}")


def short_name(function: str) -> str:
    """A function's name as GCC's debug information gives the samples' functions (internal linkage):
    clang's adds `(anonymous namespace)::` and the parameter list (snapshot/function_name.h)."""
    function = function.replace("(anonymous namespace)::", "")
    depth = 0
    for i in range(len(function) - 1, -1, -1):
        if function[i] == ")":
            depth += 1
        elif function[i] == "(":
            depth -= 1
            if depth == 0:
                return function[:i] if i > 0 else function
    return function


def function_pattern(name: str) -> str:
    """A regular expression for `name` as a report shows it from either compiler's debug information."""
    return rf"(?:\(anonymous namespace\)::)?{re.escape(name)}(?:\([^()]*\))?"


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, timeout=300, **kwargs)


class HeapsnapTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="heapsnap-it-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def profile(self, *program, output="out.json", stdin=None, extra=()):
        """Runs `program` directly and under heapsnap; asserts identical stdout, stderr and status."""
        direct = run(list(program), cwd=self.dir, input=stdin)
        profiled = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / output), *extra, "--", *program],
                       cwd=self.dir, input=stdin)
        self.assertEqual(profiled.stdout, direct.stdout, f"stdout differs for {program}")
        self.assertEqual(profiled.stderr, direct.stderr, f"stderr differs for {program}")
        self.assertEqual(profiled.returncode, direct.returncode, f"exit status differs for {program}")
        return profiled

    def snapshot(self, name="out.json"):
        return json.loads((self.dir / name).read_text())

    def check(self, *args):
        return run([HEAPSNAP, "check", *args], cwd=self.dir)


class Samples(HeapsnapTestCase):
    def test_leaky_sample_reports_exactly_its_two_leak_sites(self):
        self.profile(str(SAMPLES / "leaky"))
        result = self.check("out.json", "--format", "json")
        self.assertEqual(result.returncode, 1, result.stderr)
        report = json.loads(result.stdout)
        source = SOURCE / "samples" / "leaky.cpp"
        sites = sorted((leak["traceback"][0]["filename"].rsplit("/", 1)[-1], leak["traceback"][0]["lineno"],
                        leak["kind"], leak["size"], leak["count"]) for leak in report["leaks"])
        self.assertEqual(sites, sorted([
            ("leaky.cpp", line_of(source, "LEAK SITE 1"), "direct", 300, 3),
            ("leaky.cpp", line_of(source, "LEAK SITE 2"), "direct", 240, 5),
        ]))
        self.assertEqual(report["totals"]["size"], 540)
        self.assertEqual(report["totals"]["count"], 8)
        self.assertIn("make_buffer", report["leaks"][0]["traceback"][0]["function"] +
                      report["leaks"][1]["traceback"][0]["function"])
        text = self.check("out.json")
        self.assertEqual(text.returncode, 1)
        self.assertIn(f"leaky.cpp:{line_of(source, 'LEAK SITE 1')}", (text.stdout + text.stderr).decode())

    def test_leaky_sample_passes_a_gate_with_room_for_its_leaks(self):
        self.profile(str(SAMPLES / "leaky"))
        self.assertEqual(self.check("out.json", "--max-leaked-bytes", "540", "--max-leaked-blocks", "8").returncode, 0)
        self.assertEqual(self.check("out.json", "--max-leaked-bytes", "539", "--max-leaked-blocks", "8").returncode, 1)

    def test_churn_sample_has_no_leaks(self):
        self.profile(str(SAMPLES / "churn"), "50")
        snapshot = self.snapshot()
        self.assertTrue(snapshot["leak_analysis"])
        result = self.check("out.json", "--format", "json")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(json.loads(result.stdout)["leaks"], [])

    def test_growing_cache_diff_ranks_the_cache_first(self):
        self.profile(str(SAMPLES / "growing_cache"), "1", output="one.json")
        self.profile(str(SAMPLES / "growing_cache"), "3", output="three.json")
        result = run([HEAPSNAP, "diff", "one.json", "three.json", "--format", "json"], cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        top = json.loads(result.stdout)[0]
        growth_line = line_of(SOURCE / "samples" / "growing_cache.cpp", "GROWTH SITE")
        self.assertEqual(top["traceback"][0]["lineno"], growth_line)
        # Per request, remember() allocates a map node and the 256-byte string's buffer: 2 blocks, and
        # two more phases add 2000 requests.
        self.assertEqual(top["count_diff"], 2 * 2000)
        self.assertGreaterEqual(top["size_diff"], 2000 * 257)
        # Nothing leaked: the cache is reachable from a global.
        self.assertEqual(self.check("three.json").returncode, 0)
        # The baseline gate: growth of reachable memory is no leak either.
        self.assertEqual(self.check("three.json", "--baseline", "one.json").returncode, 0)

    def test_stats_groups_by_line_and_file(self):
        self.profile(str(SAMPLES / "leaky"))
        by_line = json.loads(run([HEAPSNAP, "stats", "out.json", "--format", "json", "--limit", "100"],
                                 cwd=self.dir).stdout)
        by_file = json.loads(run([HEAPSNAP, "stats", "out.json", "--by", "filename", "--format", "json",
                                  "--limit", "100"], cwd=self.dir).stdout)
        self.assertEqual(sum(s["size"] for s in by_line), sum(s["size"] for s in by_file))
        leaky = [s for s in by_file if s["traceback"][0]["filename"].endswith("leaky.cpp")]
        self.assertEqual(len(leaky), 1)
        self.assertEqual(leaky[0]["traceback"][0]["lineno"], 0)


class RealPrograms(HeapsnapTestCase):
    def test_ls(self):
        self.profile("ls", "-la", "/usr")  # not "/": /proc's link count changes with every process
        self.assertGreater(len(self.snapshot()["traces"]), 0)

    def test_a_c_program_carries_no_trace_of_heapsnaps_own_runtime(self):
        # cat is C: under heapsnap it maps the C++ runtime only if heapsnap brings it as a library, and
        # what that runtime allocates for heapsnap (libstdc++'s exception pool) is never the program's.
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "out.json"), "--", "cat", "/proc/self/maps"])
        self.assertEqual(result.returncode, 0, result.stderr)
        maps = result.stdout.decode()
        static_runtime = os.environ["HEAPSNAP_STATIC_RUNTIME"] == "ON"
        self.assertEqual("libstdc++" in maps, not static_runtime, maps)
        self.assertIn("libheapsnap_preload.so", maps)
        snapshot = self.snapshot()
        modules = {frame["module"].rsplit("/", 1)[-1] for frame in snapshot["frames"]}
        self.assertIn("cat", modules)
        self.assertNotIn("libheapsnap_preload.so", modules)

    def test_python(self):
        self.profile("/usr/bin/python3", "-c", "import json; print(json.dumps({'n': sum(range(10**5))}))")

    def test_sqlite(self):
        script = ("create table t(id integer primary key, v text);"
                  "with recursive c(x) as (select 1 union all select x+1 from c where x < 20000)"
                  " insert into t(v) select printf('row %d', x) from c;"
                  "create index iv on t(v); select count(*), max(v) from t;")
        self.profile("sqlite3", ":memory:", stdin=script.encode())

    def test_git(self):
        if shutil.which("git") is None:
            self.skipTest("git is not installed")
        self.profile("git", "--version")

    def test_exit_status_passes_through(self):
        self.profile("sh", "-c", "echo out; echo err >&2; exit 3")

    def test_stdin_passes_through(self):
        self.profile("cat", stdin=b"hello\x00world\n")

    def test_killed_by_a_signal_is_reported_as_such(self):
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "k.json"), "--", "sh", "-c", "kill -TERM $$"],
                     cwd=self.dir)
        self.assertEqual(result.returncode, -signal.SIGTERM)

    def test_program_not_found(self):
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "n.json"), "--", "/nonexistent/program"],
                     cwd=self.dir)
        self.assertEqual(result.returncode, 127)
        self.assertIn("nonexistent", result.stderr.decode())

    def assert_refused(self, program, reason):
        result = run([HEAPSNAP, "run", "-o", str(self.dir / "r.json"), "--", program], cwd=self.dir)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(reason, result.stderr.decode())
        self.assertEqual(result.stdout, b"", "the program must not have run")
        self.assertFalse((self.dir / "r.json").exists())

    def test_a_statically_linked_program_is_refused_with_the_reason(self):
        source = self.dir / "static.c"
        source.write_text('#include <stdio.h>\nint main(void) { puts("ran"); return 0; }\n')
        for flavour in ("-static", "-static-pie"):
            program = self.dir / ("prog" + flavour)
            build = run(["gcc", flavour, "-o", str(program), str(source)])
            self.assertEqual(build.returncode, 0, build.stderr)
            self.assert_refused(str(program), "is statically linked")

    def test_a_set_user_id_program_of_another_user_is_refused_with_the_reason(self):
        # The loader runs it in secure-execution mode, which drops LD_PRELOAD.
        if os.getuid() == 0:
            program = self.dir / "setuid_echo"
            shutil.copy("/bin/echo", program)
            os.chown(program, 65534, -1)
            os.chmod(program, 0o4755)
        else:
            program = Path("/usr/bin/passwd")  # set-user-ID root on Debian
            self.assertTrue(program.stat().st_mode & 0o4000)
        self.assert_refused(str(program), "is set-user-ID")

    def test_children_write_their_own_snapshots(self):
        # The root process writes out.json; the two children it starts (fork + exec) write files with
        # their pid in the name. (Not `sh -c`: dash leaves through _exit, which runs no exit handler.)
        self.profile("/usr/bin/python3", "-c",
                     "import subprocess\nfor _ in range(2): subprocess.run(['ls', '/'], stdout=subprocess.DEVNULL)")
        outputs = sorted(p.name for p in self.dir.iterdir())
        self.assertIn("out.json", outputs)
        children = [name for name in outputs if re.fullmatch(r"out\.\d+\.json", name)]
        self.assertGreaterEqual(len(children), 2, outputs)
        for name in children:
            json.loads((self.dir / name).read_text())

    def test_no_follow_children_profiles_only_the_program_and_what_it_execs(self):
        # python runs the leaky sample as a child (not profiled), then becomes it by exec (profiled: the
        # same process): out.json is the exec'd leaky's, and no child wrote a file.
        leaky = str(SAMPLES / "leaky")
        program = (f"import os, subprocess\nsubprocess.run([{leaky!r}], stdout=subprocess.DEVNULL)\n"
                   f"os.execv({leaky!r}, [{leaky!r}])")
        self.profile("/usr/bin/python3", "-c", program, extra=("--no-follow-children",))
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["out.json"])
        snapshot = self.snapshot()
        self.assertEqual(snapshot["process"]["argv"], [leaky])
        totals = json.loads(self.check("out.json", "--format", "json").stdout)["totals"]
        self.assertEqual((totals["count"], totals["size"]), (8, 540))

    def test_existing_output_is_not_overwritten(self):
        (self.dir / "keep.json").write_text("precious")
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "keep.json"), "--", "true"], cwd=self.dir)
        self.assertEqual(result.returncode, 2)
        self.assertEqual((self.dir / "keep.json").read_text(), "precious")


class OnDemandSnapshots(HeapsnapTestCase):
    PROGRAM = ("import os, signal, time\n"
               "time.sleep(0.3)\n"
               "os.kill(os.getpid(), signal.SIGUSR2)\n"
               "time.sleep(0.6)\n"
               "print('still running after the signal')\n")

    def test_a_signal_writes_a_leak_analysed_snapshot_and_the_program_goes_on(self):
        env = dict(os.environ, HEAPSNAP_SNAPSHOT_SIGNAL="USR2")
        direct = run(["/usr/bin/python3", "-c", self.PROGRAM], cwd=self.dir, env=env)
        profiled = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "s.json"), "--",
                        "/usr/bin/python3", "-c", self.PROGRAM], cwd=self.dir, env=env)
        # Without heapsnap, SIGUSR2's default action kills python; with it, the signal asks for a snapshot.
        self.assertEqual(direct.returncode, -signal.SIGUSR2)
        self.assertEqual(profiled.returncode, 0, profiled.stderr)
        self.assertEqual(profiled.stdout, b"still running after the signal\n")
        snapshot = self.snapshot("s.snap-1.json")
        self.assertEqual(snapshot["process"]["reason"], "signal")
        self.assertTrue(snapshot["leak_analysis"])
        self.assertEqual(self.snapshot("s.json")["process"]["reason"], "exit")

    def test_run_options_reach_the_preload_library(self):
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "o.json"), "--interval", "50",
                      "--signal", "USR2", "--sample-bytes", "1000", "--reachable-cycles", "--",
                      "/usr/bin/python3", "-c", self.PROGRAM], cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.snapshot("o.json")["sampling_rate"], 1000)
        reasons = {self.snapshot(p.name)["process"]["reason"] for p in self.dir.glob("o.snap-*.json")}
        self.assertEqual(reasons, {"signal", "interval"})
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "n.json"), "--no-leaks", "--", "true"], cwd=self.dir)
        self.assertEqual(result.returncode, 0)
        self.assertFalse(self.snapshot("n.json")["leak_analysis"])
        # --reachable-cycles: the cycles sample keeps a 4-ring reachable from a global; listed only then.
        for option, expected in (("--reachable-cycles", True), (None, False)):
            name = f"cycles{'-reachable' if option else ''}.json"
            result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / name), *([option] if option else []), "--",
                          str(SAMPLES / "cycles"), "0"], cwd=self.dir)
            self.assertEqual(result.returncode, 0, result.stderr)
            reachable = [c for c in self.snapshot(name)["cycles"] if c["reachable"]]
            self.assertEqual(bool(reachable), expected, name)

    def test_cbor_snapshots_are_read_by_every_command(self):
        self.profile(str(SAMPLES / "leaky"), output="leaky.cbor", extra=("--snapshot-format", "cbor"))
        self.profile(str(SAMPLES / "leaky"), output="leaky.json")
        binary = (self.dir / "leaky.cbor").read_bytes()
        self.assertTrue(binary.startswith(b"\xd9\xd9\xf7"), binary[:8])
        self.assertLess(len(binary), (self.dir / "leaky.json").stat().st_size)
        from_cbor = self.check("leaky.cbor", "--format", "json")
        from_json = self.check("leaky.json", "--format", "json")
        self.assertEqual(from_cbor.returncode, 1, from_cbor.stderr)
        self.assertEqual(json.loads(from_cbor.stdout)["totals"], json.loads(from_json.stdout)["totals"])
        diff = run([HEAPSNAP, "diff", "leaky.json", "leaky.cbor"], cwd=self.dir)
        self.assertEqual(diff.returncode, 0, diff.stderr)

    def test_interval_snapshots_are_numbered(self):
        env = dict(os.environ, HEAPSNAP_INTERVAL_MS="100")
        result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / "i.json"), "--",
                      "/usr/bin/python3", "-c", "import time; time.sleep(0.8)"], cwd=self.dir, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        numbered = sorted(p.name for p in self.dir.glob("i.snap-*.json"))
        self.assertGreaterEqual(len(numbered), 2, numbered)
        for name in numbered:
            snapshot = self.snapshot(name)
            self.assertEqual(snapshot["process"]["reason"], "interval")
            self.assertFalse(snapshot["leak_analysis"])


class Cycles(HeapsnapTestCase):
    """samples/cycles.cpp leaves exactly 100 unreachable 2-cycles, 10 3-cycles, 7 self-cycles and 5 plain
    64-byte leaks, and keeps reachable a 4-ring (global) and a 2-ring per worker thread (their stacks)."""

    RUNS = 3
    SOURCE = SOURCE / "samples" / "cycles.cpp"

    def setUp(self):
        super().setUp()
        self.cycle_line = line_of_code(self.SOURCE, "CYCLE SITE")
        self.plain_line = line_of_code(self.SOURCE, "PLAIN LEAK SITE")

    def at(self, traceback, line, function=None):
        top = traceback[0]
        return top["filename"].endswith("samples/cycles.cpp") and top["lineno"] == line and \
            (function is None or short_name(top["function"]) == function)

    def profile_cycles(self, threads, run_number):
        name = f"cycles-{threads}-{run_number}.json"
        self.profile(str(SAMPLES / "cycles"), str(threads), output=name)
        return name

    def report(self, name):
        result = self.check(name, "--format", "json")
        self.assertEqual(result.returncode, 1, result.stderr)
        return json.loads(result.stdout)

    def assert_cycles(self, report):
        """Every unreachable cycle exactly once, at the cycle site, and no reachable block reported."""
        cycles = report["cycles"]
        sizes = collections.Counter(len(cycle["members"]) for cycle in cycles)
        self.assertEqual(sizes, {2: 100, 3: 10, 1: 7})
        for cycle in cycles:
            for member in cycle["members"]:
                self.assertTrue(self.at(member["traceback"], self.cycle_line, "make_node"), member["traceback"][0])
                self.assertRegex(member["address"], r"^0x[0-9a-f]+$")
            self.assertEqual(cycle["bytes"], sum(member["size"] for member in cycle["members"]))
            # A ring: every member points to the next one (two pointers: a shared_ptr's object and
            # control block), the last to the first.
            n = len(cycle["members"])
            pointed = {(edge["from"], edge["to"]) for edge in cycle["edges"]}
            self.assertEqual(pointed, {(k, (k + 1) % n) for k in range(n)}, cycle["edges"])
        self.assertEqual(sorted(((len(shape["members"]), shape["count"]) for shape in report["cycle_shapes"]),
                         reverse=True), [(3, 10), (2, 100), (1, 7)])
        self.assertEqual(report["totals"]["cycles"], 117)

        # Every leak is a member of those cycles or a plain leak: the reachable rings' blocks are not.
        kinds = collections.defaultdict(int)
        for leak in report["leaks"]:
            kinds[leak["kind"]] += leak["count"]
            if leak["kind"] == "direct":
                self.assertTrue(self.at(leak["traceback"], self.plain_line, "leak_plain"), leak)
                self.assertEqual(leak["size"], 64 * leak["count"])
        self.assertEqual(set(kinds), {"cycle", "direct"})
        self.assertEqual(kinds["cycle"], 200 + 30 + 7)
        self.assertLessEqual(kinds["direct"], 5)

    def assert_plain_leaks(self, report):
        direct = sum(leak["count"] for leak in report["leaks"] if leak["kind"] == "direct")
        self.assertEqual(direct, 5, "direct leaks at the plain leak site")
        self.assertEqual(report["totals"]["count"], 237 + 5)

    def test_every_unreachable_cycle_once_by_shape(self):
        for threads in (0, 4):
            for run_number in range(self.RUNS):
                with self.subTest(threads=threads, run=run_number):
                    name = self.profile_cycles(threads, run_number)
                    self.assert_cycles(self.report(name))
                    text = self.check(name).stdout.decode()
                    where = rf"block at \S*samples/cycles\.cpp:{self.cycle_line} \({function_pattern('make_node')}\)"
                    self.assertRegex(text, rf"\n100 cycles of 2 blocks \(96 B each\): {where} ↔ {where}\n")
                    self.assertRegex(text, rf"\n10 cycles of 3 blocks \(144 B each\): {where} → {where} → {where} → "
                                           r"back to the first\n")
                    self.assertRegex(text, rf"\n7 self-cycles \(48 B each\): {where} → itself\n")
                    self.assertEqual(text.count(" cycles of "), 2)
                    self.assertNotIn("leaked cycle:", text)  # their members are not listed again as sites

    def test_every_plain_leak_without_worker_threads(self):
        for run_number in range(self.RUNS):
            with self.subTest(run=run_number):
                name = self.profile_cycles(0, run_number)
                self.assert_plain_leaks(self.report(name))
                self.assertIn("\nLeaks outside cycles: 320 B in 5 blocks at 1 site\n", self.check(name).stdout.decode())

    # A worker waiting in pause() may hold a stale copy of its leaked block's address in a
    # caller-saved register; the collector ignores those for a thread stopped inside a system call.
    def test_every_plain_leak_with_worker_threads(self):
        for run_number in range(self.RUNS):
            self.assert_plain_leaks(self.report(self.profile_cycles(4, run_number)))

    def test_max_cycles_gates_on_the_number_of_leaked_cycles(self):
        for threads in (0, 4):
            with self.subTest(threads=threads):
                name = self.profile_cycles(threads, 0)
                totals = self.report(name)["totals"]
                room = ["--max-leaked-blocks", str(totals["count"]), "--max-leaked-bytes", str(totals["size"])]
                failed = self.check(name, "--max-cycles", "116", *room)
                self.assertEqual(failed.returncode, 1)
                self.assertEqual(failed.stderr.decode(),
                                 "heapsnap: check failed: 117 leaked cycles exceed --max-cycles 116\n")
                passed = self.check(name, "--max-cycles", "117", *room)
                self.assertEqual(passed.returncode, 0, passed.stderr)
                self.assertIn(b", 117 cycles within --max-cycles 117\n", passed.stdout)
                # The cycles' members are leaked blocks: --max-cycles alone leaves the block limit at 0.
                self.assertEqual(self.check(name, "--max-cycles", "117").returncode, 1)

    def test_reachable_cycles_are_listed_on_request_only(self):
        env = dict(os.environ, HEAPSNAP_REACHABLE_CYCLES="1")
        for threads in (0, 4):
            with self.subTest(threads=threads):
                name = f"reachable-{threads}.json"
                result = run([HEAPSNAP, "run", "--quiet", "-o", str(self.dir / name), "--", str(SAMPLES / "cycles"),
                              str(threads)], cwd=self.dir, env=env)
                self.assertEqual(result.returncode, 0, result.stderr)
                listed = run([HEAPSNAP, "cycles", name, "--reachable", "--format", "json", "--limit", "0"], cwd=self.dir)
                self.assertEqual(listed.returncode, 0, listed.stderr)
                shapes = json.loads(listed.stdout)["shapes"]
                ours = collections.Counter()
                for shape in shapes:
                    if all(self.at(member["traceback"], self.cycle_line) for member in shape["members"]):
                        ours[len(shape["members"])] += shape["count"]
                # The global's 4-ring, and one 2-ring on each worker's stack.
                self.assertEqual(ours, {4: 1, 2: threads} if threads else {4: 1}, shapes)
                text = run([HEAPSNAP, "cycles", name, "--reachable"], cwd=self.dir).stdout.decode()
                self.assertIn("1 cycle of 4 blocks (192 B): ", text)
                # Listed, but no leaks: the leaked cycles are still exactly the sample's.
                self.assert_cycles(self.report(name))
                leaked = json.loads(run([HEAPSNAP, "cycles", name, "--format", "json"], cwd=self.dir).stdout)
                self.assertEqual(leaked["totals"]["cycles"], 117)
                self.assertFalse(leaked["reachable"])

class Trend(HeapsnapTestCase):
    """samples/service.cpp, one phase per line of input and a snapshot (SIGUSR1) after each: its cache
    grows steadily, its pool fills up and stays full, its sessions come and go."""

    PHASES = 12
    SOURCE = SOURCE / "samples" / "service.cpp"

    def snapshot_series(self):
        """Runs the service phase by phase; the snapshot after phase k is svc.snap-<k>.json. The next
        phase starts only once that file exists (it is written atomically), so each snapshot holds exactly
        the state after its phase, however slow the machine."""
        service = subprocess.Popen([HEAPSNAP, "run", "--quiet", "--signal", "USR1", "-o", str(self.dir / "svc.json"),
                                    "--", str(SAMPLES / "service"), "-"],
                                   cwd=self.dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(service.kill)
        pid = int(re.fullmatch(r"service: pid (\d+)\n", service.stdout.readline()).group(1))
        for phase in range(1, self.PHASES + 1):
            service.stdin.write("next\n")
            service.stdin.flush()
            self.assertTrue(service.stdout.readline().startswith(f"phase {phase}:"))
            os.kill(pid, signal.SIGUSR1)
            snapshot = self.dir / f"svc.snap-{phase}.json"
            for _ in range(6000):  # a generous bound, not a timing assertion
                if snapshot.exists():
                    break
                time.sleep(0.01)
            self.assertTrue(snapshot.exists(), f"no {snapshot.name} after phase {phase}")
        service.stdin.close()
        self.assertEqual(service.wait(timeout=120), 0)
        service.stdout.close()
        return [f"svc.snap-{phase}.json" for phase in range(1, self.PHASES + 1)]

    def site_line(self, site):
        frame = site["traceback"][0]
        return frame["lineno"] if frame["filename"].endswith("samples/service.cpp") else None

    def test_trend_names_the_growing_cache_and_only_it(self):
        series = self.snapshot_series()
        result = run([HEAPSNAP, "trend", *reversed(series), "--format", "json", "--limit", "0"], cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual([s["file"] for s in report["snapshots"]], series)  # put in time order
        by_class = collections.defaultdict(list)
        for site in report["sites"]:
            by_class[site["class"]].append(site)
        growing = line_of_code(self.SOURCE, "GROWING SITE")
        self.assertEqual([self.site_line(site) for site in by_class["growing"]], [growing], by_class["growing"])
        cache = by_class["growing"][0]
        self.assertEqual(cache["sizes"], [256 * 20 * phase for phase in range(1, self.PHASES + 1)])
        plateau = [s for s in by_class["plateau"] if self.site_line(s) == line_of_code(self.SOURCE, "PLATEAU SITE")]
        self.assertEqual(len(plateau), 1, report["sites"])
        self.assertEqual(plateau[0]["sizes"][-1], 48 * 1024)
        churn = [s for s in by_class["churn"] if self.site_line(s) == line_of_code(self.SOURCE, "CHURN SITE")]
        self.assertEqual(len(churn), 1, report["sites"])

        text = run([HEAPSNAP, "trend", *series], cwd=self.dir).stdout.decode()
        self.assertRegex(text, rf" 1  growing .* \S*samples/service.cpp:{growing} \({function_pattern('remember')}\)\n")

    def test_check_max_growth_fails_on_the_cache(self):
        series = self.snapshot_series()
        growing = line_of_code(self.SOURCE, "GROWING SITE")
        growth = 256 * 20 * (self.PHASES - 1)
        failed = run([HEAPSNAP, "check", *series, "--max-growth", str(growth - 1)], cwd=self.dir)
        self.assertEqual(failed.returncode, 1, failed.stderr)
        self.assertRegex(failed.stderr.decode(),
                         rf"^heapsnap: check failed: \S*samples/service.cpp:{growing} \({function_pattern('remember')}\) grew steadily by "
                         rf"{growth // 1024}.0 KiB \({growth} bytes\) over {self.PHASES} snapshots, exceeding --max-growth "
                         rf"{growth - 1}\n$")
        # Nothing leaked, and the pool's growth (it plateaus) is no failure.
        passed = run([HEAPSNAP, "check", *series, "--max-growth", str(growth)], cwd=self.dir)
        self.assertEqual(passed.returncode, 0, passed.stderr)


if __name__ == "__main__":
    unittest.main()
