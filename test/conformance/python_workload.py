"""A small Python program that leaks, traced by tracemalloc: the Python project of
python_project_test.py. usage: python_workload.py OUTDIR TOOLS_DIR

Writes OUTDIR/before.dump and OUTDIR/after.dump (tracemalloc.Snapshot.dump), OUTDIR/live.json (the
tool's convert() of the live `after` snapshot) and OUTDIR/expected.json: tracemalloc's own
statistics('lineno') and compare_to(before, 'lineno') on the dumped snapshots, for the test to hold
heapsnap's output against.
"""
import json
import os
import sys
import tracemalloc

LEAK = []


def grow(blocks):
    for _ in range(blocks):
        LEAK.append(bytearray(100_000))  # LEAK SITE


def frames(traceback):
    return [{"filename": frame.filename, "lineno": frame.lineno} for frame in reversed(traceback)]


def main():
    outdir, tools = sys.argv[1], sys.argv[2]
    sys.path.insert(0, tools)
    import tracemalloc_to_heapsnap  # before tracing: the import is not part of the workload

    tracemalloc.start(10)
    grow(1)
    before = tracemalloc.take_snapshot()
    grow(5)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()

    before.dump(os.path.join(outdir, "before.dump"))
    after.dump(os.path.join(outdir, "after.dump"))
    tracemalloc_to_heapsnap.write(tracemalloc_to_heapsnap.convert(after), os.path.join(outdir, "live.json"))
    expected = {
        "stats": [{"traceback": frames(s.traceback), "size": s.size, "count": s.count}
                  for s in after.statistics("lineno")],
        "diff": [{"traceback": frames(d.traceback), "size": d.size, "size_diff": d.size_diff,
                  "count": d.count, "count_diff": d.count_diff}
                 for d in after.compare_to(before, "lineno")],
    }
    with open(os.path.join(outdir, "expected.json"), "w") as out:
        json.dump(expected, out)


if __name__ == "__main__":
    main()
