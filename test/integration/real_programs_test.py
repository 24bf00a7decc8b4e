"""Real, unmodified programs from Debian packages under `heapsnap run`, on workloads that make them work.

Each program must behave exactly as it does without heapsnap: the same stdout, stderr and exit status
(also when it fails). Where heaptrack is installed, heapsnap's traced peak and the memory still
allocated at exit must agree with heaptrack's on the same workload.

How heaptrack's numbers relate to heapsnap's:
- Its peak includes one allocation of its own. Its preload library links libstdc++, whose initializer
  allocates the exception emergency pool (72,704 bytes with GCC 12) through the traced malloc; heaptrack
  starts on that first call and counts it in every program, C or C++. heapsnap starts tracing in its
  constructor, after its dependencies' initializers ran, so no snapshot holds it (nor, in a program
  linked with libstdc++.so, the program's pool, which is the same one). This "floor" is measured, as
  heaptrack's peak on /usr/bin/true, and subtracted.
- Its "total memory leaked" does not include that pool: when heaptrack stops it calls
  __gnu_cxx::__freeres, which frees it. (cc1plus exports its static copy of libstdc++, so there the
  call frees cc1plus's pool instead and heaptrack's own stays: the sum is the same.)
- Its "calls to allocation functions" counts that pool's call too (one call, in the floor); heapsnap's
  snapshots count calls in memory.allocation_calls from its constructor on.
"""
import contextlib
import functools
import io
import json
import os
import re
import shlex
import shutil
import sys
import unittest
from dataclasses import dataclass
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, HeapsnapTestCase, run

PYTHON = "/usr/bin/python3"  # Debian's: a pyenv shim on PATH would be a different program
# heaptrack prints sizes with two decimals in units of 1000: "5.85M" is 5,845,000 to 5,855,000 bytes.
HEAPTRACK_UNITS = {"B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
# Agreement asked of heapsnap and heaptrack, beyond heaptrack's rounding: the differences measured on
# these workloads are below 0.1% (sqlite3, python3, git).
TOLERANCE = 0.02


@dataclass
class HeaptrackTotals:
    calls: int  # calls to allocation functions
    peak: int  # peak heap memory consumption, bytes
    leaked: int  # bytes still allocated at exit, suppressions disabled
    resolution: int  # how far `peak` and `leaked` may be from the exact values, as printed
    temporary: int  # allocations whose very next event was their own free (heaptrack_interpret's count)


def heaptrack_size(text: str):
    """Bytes and rounding error of a size as heaptrack_print writes it ("72.70K", "512B")."""
    number, unit = re.fullmatch(r"(-?[\d.]+)([BKMGT])", text).groups()
    scale = HEAPTRACK_UNITS[unit]
    return round(float(number) * scale), (scale // 200 if scale > 1 else 0)


def heaptrack_totals(data: Path, temporary: int) -> HeaptrackTotals:
    printed = run(["heaptrack_print", "--disable-builtin-suppressions", "--disable-embedded-suppressions",
                   "-f", str(data), "-p", "0", "-a", "0", "-T", "0", "-l", "0"])
    text = printed.stdout.decode()
    if printed.returncode != 0:
        raise AssertionError(f"heaptrack_print {data} failed: {printed.stderr.decode()}")
    calls = int(re.search(r"^calls to allocation functions: (\d+)", text, re.M).group(1))
    peak, peak_error = heaptrack_size(re.search(r"^peak heap memory consumption: (\S+)", text, re.M).group(1))
    leaked, leaked_error = heaptrack_size(re.search(r"^total memory leaked: (\S+)", text, re.M).group(1))
    return HeaptrackTotals(calls, peak, leaked, max(peak_error, leaked_error), temporary)


def profile_with_heaptrack(program, output: Path, **kwargs) -> HeaptrackTotals:
    result = run(["heaptrack", "-o", str(output), *program], **kwargs)
    if result.returncode != 0:  # heaptrack exits with the program's status
        raise AssertionError(f"{program} failed under heaptrack: {result.stderr.decode()}")
    data = sorted(output.parent.glob(output.name + ".*"))  # .zst, or .gz without zstd
    if len(data) != 1:
        raise AssertionError(f"heaptrack left {data} for {program}: {result.stderr.decode()}")
    # The exact count, by address, is only in heaptrack_interpret's stats on stderr: heaptrack_print's
    # per-site "temporary" counts a free as temporary when the last allocation had the same size and
    # stack, whichever block it was (on sqlite3: 40,363 where 364 blocks were freed right away).
    temporary = re.search(r"^\s*temporary allocations:\s*(\d+)", result.stderr.decode(), re.M)
    if temporary is None:
        raise AssertionError(f"heaptrack printed no stats for {program}: {result.stderr.decode()}")
    return heaptrack_totals(data[0], int(temporary.group(1)))


@functools.cache
def heaptrack_floor() -> HeaptrackTotals:
    """What heaptrack counts in a program that allocates nothing (see the module's comment)."""
    output = Path(os.environ.get("TMPDIR", "/tmp")) / f"heapsnap-it-floor-{os.getpid()}"
    try:
        return profile_with_heaptrack(["/usr/bin/true"], output)
    finally:
        for path in output.parent.glob(output.name + ".*"):
            path.unlink()


class ProgramTestCase(HeapsnapTestCase):
    """Runs programs in a private HOME under the C locale, directly and under heapsnap."""

    def setUp(self):
        super().setUp()
        home = self.dir / "home"
        home.mkdir()
        self.env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), LC_ALL="C",
                        GIT_CONFIG_NOSYSTEM="1", GIT_CEILING_DIRECTORIES=str(self.dir))
        self.snapshots = self.dir / "snapshots"  # outside any directory a program works in
        self.snapshots.mkdir()

    def compare_runs(self, *program, output, stdin=None, cwd=None, profiled_cwd=None, env=None):
        """Runs `program` directly in `cwd` and under heapsnap in `profiled_cwd` (both default to the
        test's directory); asserts identical stdout, stderr and exit status. Returns the profiled run."""
        env = env or self.env
        cwd = cwd or self.dir
        direct = run(list(program), cwd=cwd, input=stdin, env=env)
        profiled = run([HEAPSNAP, "run", "--quiet", "-o", str(self.snapshots / output), "--", *program],
                       cwd=profiled_cwd or cwd, input=stdin, env=env)
        self.assertEqual(profiled.stdout, direct.stdout, f"stdout differs for {program}")
        self.assertEqual(profiled.stderr, direct.stderr, f"stderr differs for {program}")
        self.assertEqual(profiled.returncode, direct.returncode, f"exit status differs for {program}")
        return profiled

    def snapshot_of(self, output):
        return json.loads((self.snapshots / output).read_text())

    def assert_valid_snapshot(self, path: Path):
        """`heapsnap stats` reads the file and accounts for every live traced byte in it."""
        stats = run([HEAPSNAP, "stats", str(path), "--format", "json", "--limit", "0"])
        self.assertEqual(stats.returncode, 0, f"{path.name}: {stats.stderr.decode()}")
        snapshot = json.loads(path.read_text())
        self.assertEqual(sum(s["size"] for s in json.loads(stats.stdout)),
                         sum(t["size"] for t in snapshot["traces"]), path.name)
        self.assertLessEqual(snapshot["memory"]["current"], snapshot["memory"]["peak"], path.name)
        return snapshot

    def assert_agrees_with_heaptrack(self, snapshot, program, layout_allowance=0, **kwargs):
        """heapsnap's peak and memory at exit against heaptrack's on the same workload; the program may
        use up to `layout_allowance` bytes more or less when the address space is laid out differently."""
        if shutil.which("heaptrack") is None or shutil.which("heaptrack_print") is None:
            self.skipTest("heaptrack is not installed (scripts/setup installs it)")
        output = self.dir / "heaptrack" / "data"
        output.parent.mkdir(exist_ok=True)
        totals = profile_with_heaptrack(program, output, env=self.env, **kwargs)
        floor = heaptrack_floor()
        self.assertEqual(floor.leaked, 0, "heaptrack's own allocation is freed at exit")
        peak, current = snapshot["memory"]["peak"], snapshot["memory"]["current"]
        expected_peak = totals.peak - floor.peak
        print(f"\n  {Path(program[0]).name}: peak heapsnap {peak} B, heaptrack {totals.peak} B - own {floor.peak} B"
              f" = {expected_peak} B ({(peak - expected_peak) / expected_peak:+.2%}); at exit heapsnap {current} B,"
              f" heaptrack {totals.leaked} B; {totals.calls} allocation calls", file=sys.stderr)
        slack = totals.resolution + floor.resolution + layout_allowance
        self.assertAlmostEqual(peak, expected_peak, delta=TOLERANCE * expected_peak + slack)
        self.assertAlmostEqual(current, totals.leaked, delta=TOLERANCE * totals.leaked + slack)
        calls = snapshot["memory"]["allocation_calls"]
        expected_calls = totals.calls - floor.calls
        print(f"  allocation calls: heapsnap {calls}, heaptrack {totals.calls} - own {floor.calls} = {expected_calls}"
              f" ({(calls - expected_calls) / expected_calls:+.2%})", file=sys.stderr)
        self.assertAlmostEqual(calls, expected_calls, delta=TOLERANCE * expected_calls + layout_allowance // 4096)
        # Both count a block as temporary when its free is the next allocator event after its
        # allocation: heaptrack's next event of the process, heapsnap's of the thread. These programs
        # allocate on one thread; measured: equal within 3 (heaptrack's own allocations interleave).
        temporary = sum(site["temporary"] for site in snapshot["activity"])
        expected_temporary = totals.temporary - floor.temporary
        print(f"  temporary allocations: heapsnap {temporary}, heaptrack {totals.temporary} - own {floor.temporary}"
              f" = {expected_temporary}", file=sys.stderr)
        self.assertAlmostEqual(temporary, expected_temporary,
                               delta=0.001 * expected_temporary + 16)


class Sqlite(ProgramTestCase):
    ROWS = 100_000
    # A 10-character text and a small integer per row, kept in memory: pages of at least 1.2 MB.
    WORKLOAD = f"""
        create table t(id integer primary key, k integer, v text);
        with recursive c(x) as (select 1 union all select x + 1 from c where x < {ROWS})
          insert into t(k, v) select (x * 7919) % 100003, printf('row-%06d', x) from c;
        create index ik on t(k);
        select count(*), sum(k), min(v), max(v) from t;
        select id, k, v from t where k between 500 and 520 order by k;
        select k % 10 as bucket, count(*), avg(length(v)) from t group by bucket order by bucket;
        """.encode()

    def test_workload_output_passes_through(self):
        result = self.compare_runs("sqlite3", ":memory:", output="sqlite.json", stdin=self.WORKLOAD)
        keys = [(x * 7919) % 100003 for x in range(1, self.ROWS + 1)]
        lines = result.stdout.decode().splitlines()
        self.assertEqual(lines[0], f"{self.ROWS}|{sum(keys)}|row-000001|row-{self.ROWS:06d}")
        self.assertEqual(len(lines), 1 + sum(500 <= k <= 520 for k in keys) + 10, lines)
        self.assertEqual(lines[-1], f"9|{sum(k % 10 == 9 for k in keys)}|10.0")
        snapshot = self.assert_valid_snapshot(self.snapshots / "sqlite.json")
        self.assertGreater(snapshot["memory"]["peak"], self.ROWS * 12)

    def test_peak_agrees_with_heaptrack(self):
        self.compare_runs("sqlite3", ":memory:", output="sqlite.json", stdin=self.WORKLOAD)
        self.assert_agrees_with_heaptrack(self.snapshot_of("sqlite.json"), ["sqlite3", ":memory:"],
                                          input=self.WORKLOAD, cwd=self.dir)


class Python(ProgramTestCase):
    # Records as dicts of strings and lists, indexed, sent through a JSON round trip.
    WORKLOAD = """
import json
records = [{"id": i, "name": f"item-{i:05d}", "tags": [str(i % 7), str(i % 11)], "score": (i * 37) % 1000}
           for i in range(20000)]
by_tag = {}
for record in records:
    for tag in record["tags"]:
        by_tag.setdefault(tag, []).append(record["id"])
text = json.dumps(records, sort_keys=True)
back = json.loads(text)
assert back == records
names = " ".join(r["name"] for r in back).split()
print(len(text), len(by_tag), sum(len(v) for v in by_tag.values()), len(set(names)))
print(sorted(by_tag)[:5], max(r["score"] for r in back))
"""

    def setUp(self):
        super().setUp()
        # Every object through malloc (not pymalloc's arenas), so that both tools see each one.
        self.env.update(PYTHONMALLOC="malloc", PYTHONHASHSEED="0")
        # A file, not `-c`: heaptrack records the command line as one line of its data file, and its
        # reader rejects the rest of a multi-line argument.
        (self.dir / "workload.py").write_text(self.WORKLOAD)
        self.program = [PYTHON, "-s", "workload.py"]

    def test_workload_output_passes_through(self):
        result = self.compare_runs(*self.program, output="python.json")
        expected = io.StringIO()  # what the workload prints, computed here
        with contextlib.redirect_stdout(expected):
            exec(self.WORKLOAD, {})
        self.assertEqual(result.stdout.decode(), expected.getvalue())
        snapshot = self.assert_valid_snapshot(self.snapshots / "python.json")
        text_length = int(expected.getvalue().split()[0])
        self.assertGreater(snapshot["memory"]["peak"], 2 * text_length)  # at least the JSON text and its parse

    def test_peak_agrees_with_heaptrack(self):
        self.compare_runs(*self.program, output="python.json")
        self.assert_agrees_with_heaptrack(self.snapshot_of("python.json"), self.program, cwd=self.dir)


class Git(ProgramTestCase):
    """A repository made twice, once by git directly and once by git under heapsnap, step by step."""

    FILES = 40

    def setUp(self):
        super().setUp()
        self.env.update(GIT_AUTHOR_DATE="2024-01-01T12:00:00Z", GIT_COMMITTER_DATE="2024-01-01T12:00:00Z")
        self.direct, self.profiled = self.dir / "direct", self.dir / "profiled"
        self.step = 0

    def both(self, *args):
        self.step += 1
        result = self.compare_runs("git", *args, output=f"step{self.step}.json", cwd=self.direct,
                                   profiled_cwd=self.profiled)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.decode()

    def write_files(self, revision):
        for root in (self.direct, self.profiled):
            for n in range(self.FILES):
                lines = "".join(f"file {n} line {k} revision {revision}\n" for k in range(20 * (n + 1)))
                (root / "repo" / f"file{n:02d}.txt").write_text(lines)

    def make_history(self):
        self.direct.mkdir()
        self.profiled.mkdir()
        self.both("init", "-q", "-b", "main", "repo")
        self.both("-C", "repo", "config", "user.name", "A U Thor")
        self.both("-C", "repo", "config", "user.email", "author@example.com")
        self.write_files(1)
        self.both("-C", "repo", "add", ".")
        first = self.both("-C", "repo", "commit", "-m", "first")
        self.write_files(2)
        second = self.both("-C", "repo", "commit", "-a", "-m", "second")
        return first, second

    def test_commit_and_log_output_passes_through(self):
        first, second = self.make_history()
        self.assertRegex(first, rf"^\[main \(root-commit\) [0-9a-f]+\] first\n {self.FILES} files changed")
        self.assertRegex(second, rf"^\[main [0-9a-f]+\] second\n {self.FILES} files changed")
        log = self.both("-C", "repo", "log", "--stat")
        self.assertEqual(log.count("Author: A U Thor <author@example.com>"), 2)
        self.assertIn("Date:   Mon Jan 1 12:00:00 2024 +0000", log)
        self.both("-C", "repo", "log", "-p", "--format=%H %s")
        status = self.both("-C", "repo", "status", "--porcelain")
        self.assertEqual(status, "")
        self.both("-C", "repo", "cat-file", "-p", "HEAD^{tree}")
        self.both("-C", "repo", "rev-parse", "HEAD~1")
        # Every git process (and any child git started, named with its pid) left a readable snapshot.
        written = sorted(self.snapshots.iterdir())
        self.assertGreaterEqual(len([p for p in written if re.fullmatch(r"step\d+\.json", p.name)]), self.step)
        for path in written:
            self.assert_valid_snapshot(path)

    def test_log_peak_agrees_with_heaptrack(self):
        self.make_history()
        log = ["git", "-C", "repo", "log", "-p", "--stat"]
        self.compare_runs(*log, output="log.json", cwd=self.direct, profiled_cwd=self.profiled)
        self.assert_agrees_with_heaptrack(self.snapshot_of("log.json"), log, cwd=self.profiled)


class Compiler(ProgramTestCase):
    SOURCE = """
#include <cstdio>
#include <map>
#include <string>
#include <vector>

int main() {
  std::map<std::string, std::vector<int>> index;
  for (int i = 0; i < 100; ++i) index["key" + std::to_string(i % 10)].push_back(i);
  for (const auto& [key, values] : index) std::printf("%s %zu\\n", key.c_str(), values.size());
}
"""

    def setUp(self):
        super().setUp()
        self.direct, self.profiled = self.dir / "direct", self.dir / "profiled"
        for root in (self.dir, self.direct, self.profiled):
            root.mkdir(exist_ok=True)
            (root / "program.cpp").write_text(self.SOURCE)

    def test_compile_and_link_writes_a_snapshot_per_process(self):
        self.compare_runs("g++", "-O1", "-o", "program", "program.cpp", output="gxx.json", cwd=self.direct,
                          profiled_cwd=self.profiled)
        # The same executable, byte for byte, which does what the source says.
        self.assertEqual((self.profiled / "program").read_bytes(), (self.direct / "program").read_bytes())
        ran = run([str(self.profiled / "program")])
        self.assertEqual(ran.stdout.decode().splitlines(), [f"key{k} 10" for k in range(10)])

        # The driver writes gxx.json; each program it starts writes gxx.<pid>.json.
        programs = {}
        for path in self.snapshots.iterdir():
            snapshot = self.assert_valid_snapshot(path)
            match = re.fullmatch(r"gxx(?:\.(\d+))?\.json", path.name)
            self.assertIsNotNone(match, path.name)
            if match.group(1):
                self.assertEqual(snapshot["process"]["pid"], int(match.group(1)), path.name)
            programs[Path(snapshot["process"]["argv"][0]).name] = snapshot
        self.assertEqual(self.snapshot_of("gxx.json")["process"]["argv"][0], "g++")
        self.assertLessEqual({"g++", "cc1plus", "as", "collect2", "ld"}, set(programs))
        self.assertGreater(len(programs["cc1plus"]["traces"]), 0)
        self.assertGreater(programs["cc1plus"]["memory"]["peak"], programs["g++"]["memory"]["peak"])

    def test_compiler_peak_agrees_with_heaptrack(self):
        # heaptrack follows no child process: compare on the compiler proper, run as the driver runs it.
        listed = run(["g++", "-###", "-O1", "-S", "-o", "program.s", "program.cpp"], cwd=self.dir, env=self.env)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        commands = [shlex.split(line) for line in listed.stderr.decode().splitlines() if line.startswith(" ")]
        cc1plus = [command for command in commands if Path(command[0]).name == "cc1plus"]
        self.assertEqual(len(cc1plus), 1, commands)
        self.compare_runs(*cc1plus[0], output="cc1plus.json")
        # GCC's garbage collector maps its pages with mmap and finds a page's entry through a two-level
        # table whose second level, one 32 KiB xcalloc per 16 MiB of address space its pages span,
        # lives on the heap. heapsnap's allocator maps memory of its own in between, so that cc1plus
        # needs one to three more of those than under glibc's malloc, varying from run to run.
        self.assert_agrees_with_heaptrack(self.snapshot_of("cc1plus.json"), cc1plus[0], cwd=self.dir,
                                          layout_allowance=4 * 32 * 1024)


class FailingPrograms(ProgramTestCase):
    """A program's failure is passed through untouched: its diagnostics and its exit status."""

    def test_sqlite_syntax_error(self):
        script = b"select 1;\nselec 2;\nselect 3;\n"
        for options in ([], ["-bail"]):
            with self.subTest(options=options):
                result = self.compare_runs("sqlite3", *options, ":memory:", output="sqlite.json", stdin=script)
                self.assertEqual(result.returncode, 1)
                self.assertIn(b'Parse error near line 2: near "selec": syntax error', result.stderr)
                self.assertEqual(result.stdout, b"1\n" if options else b"1\n3\n")
                (self.snapshots / "sqlite.json").unlink()

    def test_git_outside_a_repository(self):
        result = self.compare_runs("git", "log", output="git.json")
        self.assertEqual(result.returncode, 128)
        self.assertIn(b"fatal: not a git repository", result.stderr)
        result = self.compare_runs("git", "no-such-command", output="git-unknown.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"'no-such-command' is not a git command", result.stderr)

    def test_python_uncaught_exception(self):
        program = [PYTHON, "-s", "-c", "print('partial output'); d = {'a': 1}; d['missing']"]
        result = self.compare_runs(*program, output="python.json")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, b"partial output\n")
        self.assertTrue(result.stderr.endswith(b"KeyError: 'missing'\n"), result.stderr)

    def test_compile_error(self):
        (self.dir / "broken.cpp").write_text("#include <string>\nint main() { return undefined_name; }\n")
        result = self.compare_runs("g++", "-c", "broken.cpp", output="gxx.json")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"broken.cpp:2:21: error: 'undefined_name' was not declared in this scope", result.stderr)
        self.assertFalse((self.dir / "broken.o").exists())
        # The compiler proper failed, and still left its snapshot.
        compilers = [path for path in self.snapshots.glob("gxx.*.json")
                     if Path(json.loads(path.read_text())["process"]["argv"][0]).name == "cc1plus"]
        self.assertEqual(len(compilers), 1, sorted(self.snapshots.iterdir()))
        self.assert_valid_snapshot(compilers[0])


if __name__ == "__main__":
    unittest.main()
