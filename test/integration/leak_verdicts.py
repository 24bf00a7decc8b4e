"""The leak verdicts of heapsnap and of LeakSanitizer on the same program, process by process.

A verdict is what a tool calls leaked when a program exits: blocks, bytes, and the sites (the function
that called the allocator) of the leaked blocks. heapsnap's comes from `heapsnap check --format json`
on each snapshot the run wrote; LSan's from the report of liblsan preloaded into every process of the
same run (`log_path` files, one per process). A process is named by the file name of its argv[0], and
the verdicts of processes of the same name are added up (git's steps, the compiler's children).

Used by leak_verdicts_test.py and real_suites_test.py; docs/accuracy.md says how the numbers were read.
"""
import functools
import json
import os
import re
import shutil
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
def sanitizer_library(name="lsan") -> str:
    """GCC's liblsan (or libasan), for preloading into programs built without -fsanitize=leak."""
    path = run(["gcc", f"-print-file-name=lib{name}.so"]).stdout.decode().strip()
    if not os.path.exists(path):
        raise AssertionError(f"lib{name} not found ({path!r}): scripts/setup installs gcc's (lib{name}*)")
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


# Frames that name no site: heapsnap's and Valgrind's "no symbol", and the frames below main, which
# the tools name differently (libc has no symbol there for heapsnap).
NO_SITE = re.compile(r"0x[0-9a-f]+|\?\?\??|\(below main\)|__libc_start_call_main|__libc_start_main(_impl)?|_start")


# Files whose unnamed frames are the allocator's or libc's wrappers of it (strdup, getline...).
RUNTIME_MODULES = re.compile(r"libc\.so|libstdc\+\+\.so|liblsan|libasan|vgpreload_|ld-linux|libheapsnap")


def site_of(frames) -> str:
    """Where a leaked block was allocated, as every tool can name it: the short name of the first frame
    with a symbol that is not the allocator; `module+` (the first frame's file) when none has one."""
    for function, _ in frames:
        if NO_SITE.fullmatch(function):
            continue
        if function and not ALLOCATOR_FUNCTIONS.search(function):
            return short_name(function)
    for function, module in frames:  # no symbol anywhere: the program's or library's file, past libc's
        if "/" not in module:  # heapsnap names the main program as its argv[0] was given
            module = shutil.which(module) or ""
        if module and not RUNTIME_MODULES.match(Path(module).name):
            return Path(os.path.realpath(module)).name + "+"
    return "?"


def heapsnap_verdicts(snapshots: Path, stem: str) -> dict:
    """Verdicts of every snapshot `stem`.json and `stem`.<pid>.json in `snapshots`, by executable."""
    verdicts = {}
    paths = sorted(snapshots.glob(f"{stem}.json")) + sorted(snapshots.glob(f"{stem}.*.json"))
    for path in paths:
        if not re.fullmatch(rf"{re.escape(stem)}(\.\d+)?\.json", path.name):
            continue
        process = json.loads(path.read_text())["process"]
        name = Path(process["argv"][0]).name  # as LSan's log_exe_name names it
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
        if ("ERROR: LeakSanitizer" in text and not verdict.leaked) or "ERROR: AddressSanitizer" in text:
            raise AssertionError(f"the sanitizer reported an error that is not a leak in {path}:\n{text[:2000]}")
    return verdicts


def lsan_environment(env: dict, logs: Path, runtime="lsan") -> dict:
    """`env` with LSan preloaded, reporting to `logs`.<executable>.<pid>. runtime="asan": LSan as ASan's
    runtime carries it (ASAN_OPTIONS), for the programs that liblsan on its own cannot run (sqlite3:
    liblsan's signal() interceptor calls a null function)."""
    options = f"{LSAN_OPTIONS}:log_path={logs}"
    if runtime == "asan":
        return dict(env, LD_PRELOAD=sanitizer_library("asan"), ASAN_OPTIONS=options, LSAN_OPTIONS=options)
    return dict(env, LD_PRELOAD=sanitizer_library("lsan"), LSAN_OPTIONS=options)


def describe(verdicts: dict) -> str:
    return "; ".join(f"{name}: {v.summary()} {sorted(v.sites)}" for name, v in sorted(verdicts.items())) or "no process"


# Memcheck as docs/accuracy.md runs it (add --trace-children=yes for programs that start others).
VALGRIND = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--num-callers=30"]
VALGRIND_RECORD = re.compile(r"^==\d+== ([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in ([\d,]+) "
                             r"blocks are (definitely|indirectly) lost in loss record.*\n"
                             r"((?:==\d+==    (?:at|by) .*\n)*)", re.M)
VALGRIND_FRAME = re.compile(r"(?:at|by) 0x[0-9A-F]+: (.*) \((?:in )?([^()]*)\)$")


def valgrind_verdicts(logs: Path) -> dict:
    """Verdicts of Valgrind memcheck's logs `logs`.<pid> (--log-file=`logs`.%p, --show-leak-kinds=
    definite,indirect), by the file name of each process's command; blocks and bytes definitely and
    indirectly lost."""
    verdicts = {}
    for path in sorted(logs.parent.glob(logs.name + ".*")):
        text = path.read_text(errors="replace")
        command = re.search(r"^==\d+== Command: (\S+)", text, re.M)
        if command is None or "LEAK SUMMARY" not in text and "All heap blocks were freed" not in text:
            continue  # a process that exec'd another program, or ended without memcheck's summary
        verdict = verdicts.setdefault(Path(command.group(1)).name, Verdict())
        for match in VALGRIND_RECORD.finditer(text):
            size = int((match.group(2) or match.group(1)).replace(",", ""))
            frames = []
            for line in match.group(5).splitlines():
                frame = VALGRIND_FRAME.search(line)
                if frame:
                    frames.append(frame.groups())
            verdict.add(int(match.group(3).replace(",", "")), size, site_of(frames))
    return verdicts
