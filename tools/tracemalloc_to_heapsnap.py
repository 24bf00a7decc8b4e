#!/usr/bin/env python3
"""Convert a CPython tracemalloc snapshot into a heapsnap snapshot file.

    tracemalloc_to_heapsnap.py IN OUT [--force]

IN is a file written by tracemalloc.Snapshot.dump(); OUT is heapsnap's snapshot JSON (version 1,
docs/snapshot-format.md), which `heapsnap stats`, `diff` and `check` read. Traces are summed per
(domain, traceback): one heapsnap trace holds the size and the number of blocks of all of
tracemalloc's traces with that domain, those frames and that total_nframe.

As a module: convert(snapshot) turns a live tracemalloc.Snapshot into the same document, as a dict;
load_dump(path) reads a dump file without running code from it; write(document, path) saves it.

A dump is a pickle, and unpickling runs whatever code a pickle names: load_dump() only lets the
classes a tracemalloc dump holds (tracemalloc.Snapshot and its trace list) through, so a hostile file
is an error, not code execution. Exit status: 0 converted, 2 bad usage or input (including an OUT
that exists without --force).
"""

import argparse
import io
import json
import os
import pickle
import sys
import tempfile

FORMAT = "heapsnap-snapshot"
VERSION = 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

__all__ = ["convert", "load_dump", "write", "ConversionError", "main"]


class ConversionError(Exception):
    """The input is not a tracemalloc snapshot heapsnap can represent."""


class _SnapshotUnpickler(pickle.Unpickler):
    # A tracemalloc dump names exactly these classes; anything else would be code to run.
    ALLOWED = {("tracemalloc", "Snapshot"), ("tracemalloc", "_Traces")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise ConversionError("not a tracemalloc snapshot: the file refers to %s.%s" % (module, name))
        return super().find_class(module, name)


def load_dump(path):
    """Reads a file written by tracemalloc.Snapshot.dump(), without running code from it."""
    import tracemalloc  # noqa: F401 (the classes the unpickler resolves)
    with open(path, "rb") as f:
        data = f.read()
    try:
        snapshot = _SnapshotUnpickler(io.BytesIO(data)).load()
    except ConversionError:
        raise
    except Exception as error:  # truncated or corrupt pickles raise many kinds of errors
        raise ConversionError("not a tracemalloc snapshot dump: %s" % error) from None
    if type(snapshot).__name__ != "Snapshot" or not hasattr(snapshot, "traces"):
        raise ConversionError("not a tracemalloc snapshot dump: it holds a %s" % type(snapshot).__name__)
    return snapshot


def _unsigned(value, limit, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > limit:
        raise ConversionError("%s must be an integer from 0 to %d, not %r" % (what, limit, value))
    return value


def _raw_traces(snapshot):
    traces = getattr(snapshot, "traces", None)
    raw = getattr(traces, "_traces", traces)
    if raw is None:
        raise ConversionError("not a tracemalloc snapshot: no traces")
    return raw


def convert(snapshot):
    """The heapsnap snapshot document (a dict, ready for json.dump) of a tracemalloc.Snapshot."""
    limit = _unsigned(getattr(snapshot, "traceback_limit", None), UINT32_MAX, "traceback_limit")
    frame_index = {}      # (filename, lineno) -> index in frames
    traceback_index = {}  # (frame indices, total_nframe) -> index in tracebacks
    sums = {}             # (domain, traceback index) -> [size, count], in order of first appearance
    frames, tracebacks = [], []
    for number, trace in enumerate(_raw_traces(snapshot)):
        what = "trace %d" % number
        if not isinstance(trace, tuple) or len(trace) not in (3, 4):
            raise ConversionError("%s: expected (domain, size, frames[, total_nframe]), got %r" % (what, trace))
        domain, size, raw_frames = trace[:3]
        total_nframe = trace[3] if len(trace) == 4 and trace[3] is not None else len(raw_frames)
        _unsigned(domain, UINT32_MAX, what + ": domain")
        _unsigned(size, UINT64_MAX, what + ": size")
        _unsigned(total_nframe, UINT32_MAX, what + ": total_nframe")
        indices = []
        for frame in raw_frames:  # most recent first, as tracemalloc and heapsnap both store them
            if not isinstance(frame, tuple) or len(frame) != 2 or not isinstance(frame[0], str):
                raise ConversionError("%s: expected (filename, lineno) frames, got %r" % (what, frame))
            filename, lineno = frame
            _unsigned(lineno, UINT32_MAX, what + ": lineno")
            key = (filename, lineno)
            if key not in frame_index:
                frame_index[key] = len(frames)
                frames.append({"function": "", "filename": filename, "lineno": lineno, "module": "",
                               "address": "0x0"})
            indices.append(frame_index[key])
        key = (tuple(indices), max(total_nframe, len(indices)))
        if key not in traceback_index:
            traceback_index[key] = len(tracebacks)
            tracebacks.append({"frames": indices, "total_nframe": key[1]})
        totals = sums.setdefault((domain, traceback_index[key]), [0, 0])
        totals[0] += size
        totals[1] += 1
    traced = sum(size for size, _ in sums.values())
    return {
        "format": FORMAT,
        "version": VERSION,
        "traceback_limit": limit,
        "process": {"pid": 0, "argv": [], "executable": "", "reason": "tracemalloc", "unix_time_ms": 0},
        "memory": {"current": traced, "peak": traced},  # a dump has no peak: the traced total stands in
        "leak_analysis": False,
        "frames": frames,
        "tracebacks": tracebacks,
        "traces": [{"domain": domain, "traceback": index, "size": size, "count": count,
                    "reachability": "not_analyzed"}
                   for (domain, index), (size, count) in sums.items()],
    }


def write(document, path, force=False):
    """Saves `document` to `path` atomically (a temporary file, then rename), mode 0600. Without
    `force`, an existing `path` is an error (FileExistsError), as for heapsnap's own output files."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, separators=(",", ":"))
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if path exists, even if it appeared meanwhile
            os.unlink(temporary)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tracemalloc_to_heapsnap.py",
        description="Convert a file written by tracemalloc.Snapshot.dump() into a heapsnap snapshot.")
    parser.add_argument("input", metavar="IN", help="file written by tracemalloc.Snapshot.dump()")
    parser.add_argument("output", metavar="OUT", help="heapsnap snapshot file to write")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        return 0 if exit.code == 0 else 2
    try:
        if not args.force and os.path.lexists(args.output):
            raise FileExistsError(args.output)
        write(convert(load_dump(args.input)), args.output, force=args.force)
    except FileExistsError:
        print("tracemalloc_to_heapsnap: error: %s: already exists (use --force to replace it)" % args.output,
              file=sys.stderr)
        return 2
    except ConversionError as error:
        print("tracemalloc_to_heapsnap: error: %s: %s" % (args.input, error), file=sys.stderr)
        return 2
    except OSError as error:  # names the file: "[Errno 2] No such file or directory: 'in.dump'"
        print("tracemalloc_to_heapsnap: error: %s" % error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
