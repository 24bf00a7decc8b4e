#!/usr/bin/python3
"""heapsnap against CPython's own tracemalloc, on thousands of random snapshots.

Builds random snapshots (random files, lines, stack depths, sizes, domains, shared stack prefixes,
recursion, ties), runs the same operations with tracemalloc (tracemalloc.Snapshot built directly from
raw traces, as CPython's test_tracemalloc does) and with heapsnap (heapsnap_conformance_driver, one
process per batch), and requires identical results, ordering included:

  statistics() for every key type, cumulative or not (and the ValueError of cumulative tracebacks);
  compare_to() likewise, between related snapshots; filter_traces() with random Filter and
  DomainFilter mixes (patterns with wildcards and sets, lineno, all_frames, domain), and statistics of
  the filtered snapshot; str() of every Statistic and StatisticDiff; Traceback.format() with every
  kind of limit and order, source lines read from real files; the display_top() recipe;
  _format_size() on integers and averages; fnmatch on random names and patterns.

heapsnap gets each snapshot either one trace per block, like tracemalloc, or aggregated per
(domain, traceback) with counts, as its own snapshots are.

Deterministic for a seed. On the first mismatch the case is shrunk (traces, filters and frames
removed while the mismatch stays) and printed with the first differing entry, and the command to
rerun it.

usage: tracemalloc_conformance.py DRIVER [--seed N] [--cases N] [--case I]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import tracemalloc
import linecache

KEYS = ("lineno", "filename", "traceback")
BATCH = 500


# --------------------------------------------------------------------------------------------------
# Random cases

def make_source_files(directory):
    """Real files for linecache: odd whitespace, CRLF, no final newline, a BOM, Latin-1, not UTF-8."""
    contents = {
        "alloc.py": b"import os\n\n    data = b'x' * 100   \ncache = {}\n\tcache[1] = data\n",
        "crlf.py": b"first = 1\r\n  second = [0] * 10\r\n\r\nthird\r",
        "nofinal.cpp": b"int* p = new int[4];\n  auto q = std::make_unique<int>(1);",
        "bom.py": b"\xef\xbb\xbfvalue = 'caf\xc3\xa9'\n\xc2\xa0 spaced \xe3\x80\x80\n",
        "latin.py": b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n",
        "broken.py": b"x = 1\ny = '\xff'\n",
        "lib/deep/mod.py": b"def f():\n    return bytearray(64)\n",
    }
    paths = []
    for name, data in contents.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths


class Generator:
    def __init__(self, rng, source_files):
        self.rng = rng
        self.source_files = source_files
        self.file_pool = [
            "a.py", "b.py", "c.py", "a.pyc", "src/a.py", "src/b/a.py", "/usr/lib/x.py", "<unknown>",
            "<frozen importlib._bootstrap>", "lib/\u00fcber.py", "x[1].py", "a*b.py", "dir/sub/c.cpp",
            "", "ab", "?", "weird name.py",
        ] + source_files

    def files(self):
        return self.rng.sample(self.file_pool, self.rng.randint(1, 6))

    def frame(self, files):
        return (self.rng.choice(files), self.rng.choice((0, 1, 1, 2, 2, 3, 4, 5, 7, 578)))

    def stack(self, files, prefixes, limit):
        rng = self.rng
        if prefixes and rng.random() < 0.6:  # a shared oldest part, grown by more recent frames
            base = list(rng.choice(prefixes))
        else:
            base = []
        depth = rng.randint(1, limit)
        frames = base[-depth:] if len(base) >= depth else base
        while len(frames) < depth:
            if frames and rng.random() < 0.15:
                frames.insert(0, rng.choice(frames))  # recursion: a frame seen before in this stack
            else:
                frames.insert(0, self.frame(files))
        frames = tuple(frames)
        if rng.random() < 0.3:
            prefixes.append(frames)
        return frames

    def size(self):
        rng = self.rng
        if rng.random() < 0.6:
            return rng.choice((0, 1, 7, 10, 64, 100, 1000, 4096, 10239, 10240, 102400, 1048576, 123456789))
        return rng.randint(0, 5000)

    def snapshot_traces(self, files, prefixes, limit, count):
        rng = self.rng
        traces = []
        for _ in range(count):
            frames = self.stack(files, prefixes, limit)
            total = len(frames) if rng.random() < 0.7 else len(frames) + rng.randint(1, 5)
            traces.append((rng.choice((0, 0, 1, 2, 3)), self.size(), frames, total))
        # Ties: repeat some traces exactly.
        for _ in range(rng.randint(0, 3)):
            if traces:
                traces.append(rng.choice(traces))
        return traces

    def evolve(self, traces, files, prefixes, limit):
        """A later snapshot: some traces gone, some resized, some new."""
        rng = self.rng
        kept = [t for t in traces if rng.random() < 0.7]
        kept = [(d, self.size(), f, n) if rng.random() < 0.2 else (d, s, f, n) for d, s, f, n in kept]
        return kept + self.snapshot_traces(files, prefixes, limit, rng.randint(0, 10))

    def pattern(self, files):
        rng = self.rng
        name = rng.choice(files + ["a.py", "*.py"])
        kind = rng.randrange(9)
        if kind == 0 or not name:
            return name
        if kind == 1:
            return name[: rng.randint(0, len(name))] + "*"
        if kind == 2:
            return "*" + name[rng.randint(0, len(name)):]
        if kind == 3:
            chars = list(name)
            chars[rng.randrange(len(chars))] = "?"
            return "".join(chars)
        if kind == 4:
            return rng.choice(("*", "**", "*/*", "*a*", "[ab].py", "[!a].py", "[a-c]*", "*.py[co]", "src/*", "<*>"))
        if kind == 5:
            return name + "c" if name.endswith(".py") else name  # .pyc patterns match .py files
        return name

    def filters(self, files):
        rng = self.rng
        result = []
        for _ in range(rng.randint(0, 4)):
            inclusive = rng.random() < 0.5
            if rng.random() < 0.25:
                result.append({"kind": "domain", "inclusive": inclusive, "domain": rng.randint(0, 3)})
                continue
            result.append({
                "kind": "filter",
                "inclusive": inclusive,
                "pattern": self.pattern(files),
                "lineno": rng.choice((None, None, 0, 1, 2, 3)),
                "all_frames": rng.random() < 0.5,
                "domain": rng.choice((None, None, 0, 1, 2)),
            })
        return result

    def fnmatch_pairs(self):
        rng = self.rng
        alphabet = "ab/.-]![*?^\\\u00e9z"
        pairs = []
        for _ in range(20):
            name = "".join(rng.choice("ab/.-]![^\\\u00e9z") for _ in range(rng.randint(0, 6)))
            pattern = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
            pairs.append([name, pattern])
        return pairs

    def format_sizes(self):
        rng = self.rng
        values = []
        for _ in range(10):
            magnitude = 1024 ** rng.randint(0, 5)
            value = rng.choice((rng.randint(0, 20000) * magnitude // rng.randint(1, 1000),
                                rng.randint(0, 10 ** 6) / rng.randint(1, 997),
                                rng.choice((99.95, 102348, 10239.5, 0.5, 1.5, 2.5)) * magnitude))
            values.append(-value if rng.random() < 0.3 else value)
        return values

    def case(self):
        rng = self.rng
        files = self.files()
        prefixes = []
        limit = rng.randint(1, 6)
        first = self.snapshot_traces(files, prefixes, limit, rng.randint(0, 30))
        second = self.evolve(first, files, prefixes, limit)
        snapshots = [{"traceback_limit": limit, "traces": first}, {"traceback_limit": limit, "traces": second}]
        ops = []
        for key in KEYS:
            for cumulative in (False, True):
                if key == "traceback" and cumulative and rng.random() < 0.8:
                    continue
                ops.append({"op": "statistics", "snapshot": rng.randint(0, 1), "key": key, "cumulative": cumulative})
                ops.append({"op": "compare_to", "new": 1, "old": 0, "key": key, "cumulative": cumulative})
        for _ in range(rng.randint(1, 3)):
            ops.append({"op": "filter", "snapshot": rng.randint(0, 1), "filters": self.filters(files)})
            filtered = 2 + sum(1 for op in ops if op["op"] == "filter") - 1
            for key in rng.sample(KEYS, 2):
                ops.append({"op": "statistics", "snapshot": filtered, "key": key,
                            "cumulative": key != "traceback" and rng.random() < 0.5})
        frames = rng.choice(first + second)[2] if first + second else (self.frame(files),)
        for _ in range(2):
            ops.append({"op": "format", "frames": frames, "limit": rng.choice((None, 0, 1, 2, 5, -1, -2, -5)),
                        "most_recent_first": rng.random() < 0.5})
        ops.append({"op": "display_top", "snapshot": rng.randint(0, 1), "key": rng.choice(KEYS),
                    "limit": rng.choice((0, 1, 3, 10))})
        ops.append({"op": "format_size", "values": self.format_sizes(), "sign": rng.random() < 0.5})
        ops.append({"op": "fnmatch", "pairs": self.fnmatch_pairs()})
        return {"snapshots": snapshots, "ops": ops}


# --------------------------------------------------------------------------------------------------
# tracemalloc's side

def frames_json(traceback):
    """A tracemalloc.Traceback as [[filename, lineno]...], most recent first."""
    return [list(frame) for frame in reversed(traceback._frames)]


def display_top(snapshot, key_type, limit):
    """The display_top() recipe of tracemalloc's documentation, returning its lines."""
    out = []
    snapshot = snapshot.filter_traces((
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<unknown>"),
    ))
    top_stats = snapshot.statistics(key_type)
    out.append("Top %s lines" % limit)
    for index, stat in enumerate(top_stats[:limit], 1):
        frame = stat.traceback[0]
        out.append("#%s: %s:%s: %.1f KiB" % (index, frame.filename, frame.lineno, stat.size / 1024))
        line = linecache.getline(frame.filename, frame.lineno).strip()
        if line:
            out.append('    %s' % line)
    other = top_stats[limit:]
    if other:
        size = sum(stat.size for stat in other)
        out.append("%s other: %.1f KiB" % (len(other), size / 1024))
    total = sum(stat.size for stat in top_stats)
    out.append("Total allocated size: %.1f KiB" % (total / 1024))
    return out


def to_filter(spec):
    if spec["kind"] == "domain":
        return tracemalloc.DomainFilter(spec["inclusive"], spec["domain"])
    return tracemalloc.Filter(spec["inclusive"], spec["pattern"], lineno=spec["lineno"],
                              all_frames=spec["all_frames"], domain=spec["domain"])


def normalized_traces(snapshot):
    sums = {}
    for domain, size, frames, total in snapshot.traces._traces:
        key = (domain, json.dumps([list(f) for f in frames]), total)
        old = sums.get(key, (0, 0))
        sums[key] = (old[0] + size, old[1] + 1)
    return [[d, json.loads(f), n, size, count] for (d, f, n), (size, count) in sorted(sums.items())]


def run_python(case):
    snapshots = [tracemalloc.Snapshot([(d, size, tuple(tuple(f) for f in frames), n)
                                       for d, size, frames, n in s["traces"]], s["traceback_limit"])
                 for s in case["snapshots"]]
    results = []
    for op in case["ops"]:
        try:
            results.append(run_python_op(op, snapshots))
        except ValueError:
            results.append({"error": "ValueError"})
    return results


def run_python_op(op, snapshots):
    name = op["op"]
    if name == "statistics":
        stats = snapshots[op["snapshot"]].statistics(op["key"], op["cumulative"])
        return [[frames_json(s.traceback), s.size, s.count, str(s)] for s in stats]
    if name == "compare_to":
        diffs = snapshots[op["new"]].compare_to(snapshots[op["old"]], op["key"], op["cumulative"])
        return [[frames_json(d.traceback), d.size, d.size_diff, d.count, d.count_diff, str(d)] for d in diffs]
    if name == "filter":
        snapshots.append(snapshots[op["snapshot"]].filter_traces([to_filter(f) for f in op["filters"]]))
        return normalized_traces(snapshots[-1])
    if name == "format":
        return tracemalloc.Traceback(tuple(tuple(f) for f in op["frames"])).format(
            op["limit"], op["most_recent_first"])
    if name == "display_top":
        return display_top(snapshots[op["snapshot"]], op["key"], op["limit"])
    if name == "format_size":
        return [tracemalloc._format_size(v, op["sign"]) for v in op["values"]]
    if name == "fnmatch":
        import fnmatch
        return [fnmatch.fnmatch(n, p) for n, p in op["pairs"]]
    raise ValueError("unknown op " + name)


# --------------------------------------------------------------------------------------------------
# heapsnap's side

def aggregate(traces):
    """Traces summed per (domain, traceback, total_nframe), in order of first appearance."""
    sums = {}
    for domain, size, frames, total in traces:
        key = (domain, tuple(tuple(f) for f in frames), total)
        old = sums.get(key, (0, 0))
        sums[key] = (old[0] + size, old[1] + 1)
    return [[d, size, count, [list(f) for f in frames], n] for (d, frames, n), (size, count) in sums.items()]


def for_heapsnap(case, aggregated):
    snapshots = []
    for s in case["snapshots"]:
        traces = aggregate(s["traces"]) if aggregated else [
            [d, size, 1, [list(f) for f in frames], n] for d, size, frames, n in s["traces"]]
        snapshots.append({"traceback_limit": s["traceback_limit"], "traces": traces})
    return {"snapshots": snapshots, "ops": case["ops"]}


def run_heapsnap(driver, cases, workdir):
    batch = json.dumps({"cases": cases})
    done = subprocess.run([driver], input=batch.encode(), stdout=subprocess.PIPE, cwd=workdir, check=True)
    return json.loads(done.stdout)["results"]


# --------------------------------------------------------------------------------------------------
# Comparison, shrinking, reporting

def jsonable(value):
    return json.loads(json.dumps(value))


def canonical(results, case):
    """Filter results sorted the same way on both sides: their order is not part of the contract."""
    return [sorted(r, key=json.dumps) if op["op"] == "filter" and isinstance(r, list) else r
            for op, r in zip(case["ops"], results)]


def first_difference(expected, actual):
    """(op index, entry index or None) of the first difference, or None."""
    for i, (e, a) in enumerate(zip(expected, actual)):
        if e != a:
            if isinstance(e, list) and isinstance(a, list):
                for k in range(max(len(e), len(a))):
                    if k >= len(e) or k >= len(a) or e[k] != a[k]:
                        return i, k
            return i, None
    if len(expected) != len(actual):
        return min(len(expected), len(actual)), None
    return None


def mismatches(driver, workdir, case, aggregated):
    expected = canonical(jsonable(run_python(case)), case)
    actual = canonical(run_heapsnap(driver, [for_heapsnap(case, aggregated)], workdir)[0], case)
    return first_difference(expected, actual), expected, actual


def needed_ops(ops, op_index):
    """The failing op and the filter ops that made the snapshots it reads, renumbered."""
    def sources(op):
        return [op[k] for k in ("snapshot", "new", "old") if k in op]

    keep, pending = set(), [op_index]
    while pending:
        index = pending.pop()
        keep.add(index)
        for snapshot in sources(ops[index]):
            if snapshot >= 2:  # made by the (snapshot - 2)-th filter op
                pending.append([i for i, o in enumerate(ops) if o["op"] == "filter"][snapshot - 2])
    kept = [i for i in sorted(keep)]
    filters_kept = [i for i in kept if ops[i]["op"] == "filter"]
    all_filters = [i for i, o in enumerate(ops) if o["op"] == "filter"]
    renumber = {0: 0, 1: 1}
    renumber.update({2 + all_filters.index(i): 2 + n for n, i in enumerate(filters_kept)})
    result = []
    for i in kept:
        op = dict(ops[i])
        for k in ("snapshot", "new", "old"):
            if k in op:
                op[k] = renumber[op[k]]
        result.append(op)
    return result


def shrink(driver, workdir, case, aggregated, op_index):
    """Removes ops, traces, frames and the failing op's list items while it still differs."""
    case = {"snapshots": case["snapshots"], "ops": needed_ops(case["ops"], op_index)}

    def still_fails(candidate):
        return mismatches(driver, workdir, candidate, aggregated)[0] is not None

    def attempts(case):
        """Candidate cases, each one step smaller."""
        for s_index, snapshot in enumerate(case["snapshots"]):
            for t_index in reversed(range(len(snapshot["traces"]))):
                candidate = jsonable(case)
                del candidate["snapshots"][s_index]["traces"][t_index]
                yield candidate
                frames = snapshot["traces"][t_index][2]
                for f_index in range(len(frames) if len(frames) > 1 else 0):
                    candidate = jsonable(case)
                    del candidate["snapshots"][s_index]["traces"][t_index][2][f_index]
                    yield candidate
        for o_index, op in enumerate(case["ops"]):
            for key in ("filters", "pairs", "values", "frames"):
                keep = 1 if key == "frames" else 0  # a traceback has a frame
                for index in reversed(range(len(op.get(key, [])) if len(op.get(key, [])) > keep else 0)):
                    candidate = jsonable(case)
                    del candidate["ops"][o_index][key][index]
                    yield candidate

    changed = True
    while changed:
        changed = False
        for candidate in attempts(case):
            if still_fails(candidate):
                case, changed = candidate, True
                break
    return case


def report(driver, workdir, seed, index, case, aggregated, where, expected, actual):
    op_index, entry = where
    print("MISMATCH in case %d (seed %d, heapsnap given %s traces)" %
          (index, seed, "aggregated" if aggregated else "per-block"))
    print("rerun: %s %s %s --seed %d --case %d" % (sys.executable, sys.argv[0], driver, seed, index))
    small = shrink(driver, workdir, case, aggregated, op_index)
    (small_where, small_expected, small_actual) = mismatches(driver, workdir, small, aggregated)
    if small_where is None:  # should not happen; show the unshrunk case
        small, small_where, small_expected, small_actual = case, where, expected, actual
    op_index, entry = small_where
    print("shrunk case:")
    print(json.dumps(small, indent=None)[:4000])
    print("operation: %s" % json.dumps(small["ops"][op_index]))
    e, a = small_expected[op_index], small_actual[op_index]
    if entry is not None:
        print("first difference at entry %d:" % entry)
        print("  tracemalloc: %s" % (json.dumps(e[entry]) if entry < len(e) else "(no entry)"))
        print("  heapsnap:    %s" % (json.dumps(a[entry]) if entry < len(a) else "(no entry)"))
    else:
        print("  tracemalloc: %s" % json.dumps(e)[:2000])
        print("  heapsnap:    %s" % json.dumps(a)[:2000])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("driver", help="path of heapsnap_conformance_driver")
    parser.add_argument("--seed", type=int, default=20240604)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--case", type=int, help="run only this case of the seed's sequence")
    args = parser.parse_args()
    driver = os.path.abspath(args.driver)

    with tempfile.TemporaryDirectory(prefix="heapsnap-conformance-") as workdir:
        # Both sides resolve relative file names against the same empty directory, and Python's
        # linecache does not search sys.path for them (heapsnap's LineCache has no search path).
        os.chdir(workdir)
        source_files = make_source_files(os.path.join(workdir, "src"))
        sys.path[:] = []
        rng = random.Random(args.seed)
        generator = Generator(rng, source_files)
        cases = [(generator.case(), rng.random() < 0.5) for _ in range(args.cases)]
        indices = [args.case] if args.case is not None else range(len(cases))

        checked_ops = 0
        for start in range(0, len(indices), BATCH):
            chunk = indices[start:start + BATCH]
            actual = run_heapsnap(driver, [for_heapsnap(cases[i][0], cases[i][1]) for i in chunk], workdir)
            for i, got in zip(chunk, actual):
                case, aggregated = cases[i]
                expected = canonical(jsonable(run_python(case)), case)
                got = canonical(got, case)
                checked_ops += len(expected)
                where = first_difference(expected, got)
                if where is not None:
                    report(driver, workdir, args.seed, i, case, aggregated, where, expected, got)
                    return 1
        print("tracemalloc conformance: %d cases, %d operations identical to CPython %s (seed %d)" %
              (len(indices), checked_ops, sys.version.split()[0], args.seed))
        print("%d passed, 0 failed" % len(indices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
