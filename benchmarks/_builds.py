"""What the build-comparing benchmark scripts share (``bench_inference.py``,
``bench_kernels.py``): the suite's file arguments, ``--build LABEL=PYTHONPATH`` (repeatable),
the rounds' alternating build order, and one measurement in a fresh process of a build.

The machine's speed drifts by more than most changes move a read, so the scripts measure each
build in every round, the order of the builds reversed every other round."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile


def add_args(ap: argparse.ArgumentParser, *, reps: int, rounds: int) -> None:
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "blockops-bench-suite"),
                    help="the suite's files (csv-suite --out-dir; default: %(default)s)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--reps", type=int, default=reps, help="repetitions a measurement (best)")
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--build", action="append", default=[], metavar="LABEL=PYTHONPATH",
                    help="a blockops tree to compare (repeatable; default: the one imported)")


def builds(ap: argparse.ArgumentParser, a) -> list[tuple[str, str]]:
    """[(label, PYTHONPATH)] of ``--build``, or the environment's own as ``this``."""
    out = []
    for b in a.build:
        label, sep, root = b.partition("=")
        if not sep or not label:
            ap.error(f"--build wants LABEL=PYTHONPATH, got {b!r}")
        out.append((label, os.path.abspath(root)))
    return out or [("this", os.environ.get("PYTHONPATH", ""))]


def suite_file(ap: argparse.ArgumentParser, a, shape: str) -> str:
    """The suite's file of ``shape`` at ``--size`` and ``--seed`` in ``--dir``; a usage error
    saying how to write it when it is missing."""
    path = os.path.join(a.dir, f"{shape}_{a.size}B_seed{a.seed}.csv")
    if not os.path.exists(path):
        ap.error(f"{path} is missing: run python -m blockops bench csv-suite "
                 f"--size {a.size} --out-dir {a.dir} first")
    return path


def order(blds: list, rnd: int) -> list:
    """The builds in round ``rnd``'s order."""
    return blds if rnd % 2 == 0 else blds[::-1]


def run(child: str, args: list, root: str):
    """``python -c child *args`` with ``PYTHONPATH=root`` (unchanged when empty): its stdout as
    JSON. A failing child ends the script with its error."""
    env = {**os.environ, "PYTHONPATH": root} if root else dict(os.environ)
    out = subprocess.run([sys.executable, "-c", child, *map(str, args)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{' '.join(map(str, args))} ({root or 'this build'}): "
                 f"{out.stderr.strip()[-400:]}")
    return json.loads(out.stdout)


# The start of a child that converts one column group of a suite file (bench_kernels.py,
# bench_convert_limits.py; argv: path, shape, group, reps): the reader's own specs for the
# shape's explicit dtypes, the file mapped, rows counted, dest (preallocated arrays of the
# group's columns) and sub (their csv_convert specs); slices() yields the reader's slices, each
# tokenized afresh, convert(piece, ix, r0) converts one into dest from row r0. Only long-kept
# internals of blockops, so that any build can be measured.
GROUP_CHILD = r"""
import json, mmap, sys, time
from blockops import _core
from blockops._bench import csv_kernels as K, csv_shapes as S
from blockops._bench.csv_suite import _spell
from blockops.io._csv_assemble import _BlockColumns
from blockops.io.csv import SLICE_BYTES
path, shape, group, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
schema = S.columns_of(S.SHAPES[shape])
dtypes = {c: _spell(k, "blockops") for c, k in schema}
specs, cspecs, delim, quote, max_row, extra = K._reader_setup(path, dtypes)
idx = [i for i, (c, k) in enumerate(schema) if group in ("all", k, c)]
if not idx:
    sys.exit(f"no column of {shape} is {group!r}")
with open(path, "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
buf = memoryview(mm)
_, _, nf, hdr, _, err = _core.csv_tokenize(buf, len(buf), delim, quote, 0, False, 1, max_row, 1)
def slices():
    return K._slices(_core, buf, hdr, delim, quote, nf, max_row, SLICE_BYTES, [0.0])
rows = sum(r for _, _, r in slices())
n_values = rows * len(idx)
acc = _BlockColumns([specs[i] for i in idx], rows, 1, 1)
dest, sub = acc.dest(), [cspecs[i] for i in idx]
def convert(piece, ix, r0):
    _outs, _bad, err = _core.csv_convert(piece, ix, sub, quote, 1, True, dest, r0, False,
                                         *extra)
    if err is not None:
        sys.exit(f"csv_convert: {err}")
"""
