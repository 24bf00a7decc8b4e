"""The leak verdicts of heapsnap and of LeakSanitizer on the same program, process by process.

A verdict is what a tool calls leaked when a program exits: blocks, bytes, and the sites (the function
that called the allocator) of the leaked blocks. heapsnap's comes from `heapsnap check --format json`
on each snapshot the run wrote; LSan's from the report of liblsan preloaded into every process of the
same run (`log_path` files, one per process). A process is named by its executable's file name, and
the verdicts of processes of the same name are added up (git's steps, the compiler's children).

Used by leak_verdicts_test.py and real_suites_test.py; docs/accuracy.md says how the numbers were read.
"""
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from heapsnap_run_test import HEAPSNAP, run

# Frames that are the allocator, not the site: LSan's interceptors, libc's and libstdc++'s entry points.
ALLOCATOR_FUNCTIONS = re.compile(
    r"^(_+interceptor_|__GI_|__libc_)?(malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc|"
    r"memalign|valloc|pvalloc|strdup|strndup|__strdup|__strndup)$|^operator new|^heapsnap::|^__sanitizer")

# Every process of a run, LSan's report to a file named after the executable and pid; exitcode=0 so
# that a leak changes no process's status (a child's would make its parent fail), full stacks.
LSAN_OPTIONS = ("detect_leaks=1:exitcode=0:log_exe_name=1:fast_unwind_on_malloc=0:malloc_context_size=30:"
                "stack_trace_format='    #%n|%f|%m'")


@functools.cache
def lsan_library() -> str:
    """GCC's liblsan, for preloading into programs built without -fsanitize=leak."""
    path = run(["gcc", "-print-file-name=liblsan.so"]).stdout.decode().strip()
    if not os.path.exists(path):
        raise AssertionError(f"liblsan not found ({path!r}): scripts/setup installs gcc's (liblsan0)")
    return os.path.realpath(path)


@dataclass
class Verdict:
    blocks: int = 0  # leaked blocks: direct, indirect and members of leaked cycles
    bytes: int = 0
    sites: set = field(default_factory=set)  # where leaked blocks were allocated (function or module)

    @property
    def leaked(self) -> bool:
        return self.blocks > 0

    def add(self, blocks, size, site):
        self.blocks += blocks
        self.bytes += size
        self.sites.add(site)

    def summary(self):
        return f"{self.blocks} blocks, {self.bytes} B" if self.leaked else "no leak"


def short_name(function: str) -> str:
    """`ns::(anonymous namespace)::f(int) const` -> `f`: the tools qualify and decorate names differently."""
    plain = function.replace("(anonymous namespace)", "anonymous")
    depth = 0
    for index, char in enumerate(plain):  # drop the parameter list: the first '(' outside <...>
        depth += {"<": 1, ">": -1}.get(char, 0)
        if char == "(" and depth == 0:
            plain = plain[:index]
            break
    return plain.rsplit("::", 1)[-1]


def site_of(frames) -> str:
    """The first frame that is not the allocator: its function's short name, or `module+` when it has none."""
    for function, module in frames:
        if re.fullmatch(r"0x[0-9a-f]+", function):  # heapsnap's name for a frame without a symbol
            function = ""
        if function and not ALLOCATOR_FUNCTIONS.search(function):
            return short_name(function)
        if not function and module:
            return Path(module).name + "+"
    return "?"


def heapsnap_verdicts(snapshots: Path, stem: str) -> dict:
    """Verdicts of every snapshot `stem`.json and `stem`.<pid>.json in `snapshots`, by executable."""
    verdicts = {}
    paths = sorted(snapshots.glob(f"{stem}.json")) + sorted(snapshots.glob(f"{stem}.*.json"))
    for path in paths:
        if not re.fullmatch(rf"{re.escape(stem)}(\.\d+)?\.json", path.name):
            continue
        process = json.loads(path.read_text())["process"]
        name = Path(process.get("executable") or process["argv"][0]).name
        checked = run([HEAPSNAP, "check", str(path), "--format", "json"])
        if checked.returncode not in (0, 1):
            raise AssertionError(f"heapsnap check {path.name}: {checked.stderr.decode()}")
        report = json.loads(checked.stdout)
        if (checked.returncode == 1) != bool(report["leaks"]):
            raise AssertionError(f"heapsnap check {path.name}: exit status {checked.returncode} for {report['totals']}")
        verdict = verdicts.setdefault(name, Verdict())
        for leak in report["leaks"]:
            frames = [(frame.get("function", ""), frame.get("filename", "")) for frame in leak["traceback"]]
            verdict.add(leak["count"], leak["size"], site_of(frames))
    return verdicts


LSAN_LEAK = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:\n"
                       r"((?:    #\d+\|.*\n?)*)", re.M)


def lsan_verdicts(logs: Path) -> dict:
    """Verdicts of the LSan reports `logs`.<executable>.<pid>, by executable (no report: no leak)."""
    verdicts = {}
    for path in sorted(logs.parent.glob(logs.name + ".*")):
        name = path.name[len(logs.name) + 1:].rsplit(".", 1)[0]
        text = path.read_text(errors="replace")
        verdict = verdicts.setdefault(name, Verdict())
        for match in LSAN_LEAK.finditer(text):
            frames = []
            for line in match.group(4).splitlines():
                _, function, module = line.split("|", 2)
                frames.append(("" if function in ("<null>", "<unknown>") else function, module))
            verdict.add(int(match.group(3)), int(match.group(2)), site_of(frames))
        if "ERROR: LeakSanitizer" in text and not verdict.leaked:
            raise AssertionError(f"LSan reported an error but no leak in {path}:\n{text[:2000]}")
    return verdicts


def lsan_environment(env: dict, logs: Path) -> dict:
    return dict(env, LD_PRELOAD=lsan_library(), LSAN_OPTIONS=f"{LSAN_OPTIONS}:log_path={logs}")


def describe(verdicts: dict) -> str:
    return "; ".join(f"{name}: {v.summary()} {sorted(v.sites)}" for name, v in sorted(verdicts.items())) or "no process"
