"""The CSV converters alone, build against build: ns a value of one column group of a CSV
suite file (``python -m blockops bench csv-suite`` writes them), the calls ``read_csv`` makes
(as the suite's ``--kernels`` measure: each of the reader's slices tokenized, untimed, then
``csv_convert`` of the group's columns, timed), one thread, best of ``--reps`` passes over the
file in a fresh process.

The machine's speed drifts by more than most changes to a converter move it, so every group
is measured ``--rounds`` times with the builds alternating (``--build LABEL=PYTHONPATH``,
repeatable: for example the previous commit's tree, built in place, against this one), and the
report gives each round's figure, the median and the best.

    python benchmarks/bench_kernels.py --groups bsm:float64,numeric:float64 --rounds 6 \\
        --build before=/tmp/old/python --build after=$PWD/python

A group is ``shape:kind`` (a column kind of the shape: int64, float64, str, ... or ``all``) or
``shape:column``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import _builds  # benchmarks/_builds.py (this directory is on sys.path)

# one file, one group, one build: ns a value, best of reps passes
CHILD = r"""
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
rows = sum(r for _, _, r in K._slices(_core, buf, hdr, delim, quote, nf, max_row, SLICE_BYTES,
                                      [0.0]))
acc = _BlockColumns([specs[i] for i in idx], rows, 1, 1)
dest, sub = acc.dest(), [cspecs[i] for i in idx]
best = float("inf")
for rep in range(reps + 1):  # the first pass writes every page of dest (untimed)
    t, r0 = 0.0, 0
    for piece, ix, r in K._slices(_core, buf, hdr, delim, quote, nf, max_row, SLICE_BYTES,
                                  [0.0]):
        t0 = time.perf_counter()
        _outs, _bad, err = _core.csv_convert(piece, ix, sub, quote, 1, True, dest, r0, False,
                                             *extra)
        t += time.perf_counter() - t0
        if err is not None:
            sys.exit(f"csv_convert: {err}")
        r0 += r
    if rep:
        best = min(best, t)
print(json.dumps(best * 1e9 / (rows * len(idx))))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=30_000_000, help="file size in bytes")
    ap.add_argument("--groups", default="bsm:float64",
                    help="comma-separated shape:kind or shape:column (default: %(default)s)")
    _builds.add_args(ap, reps=30, rounds=6)
    a = ap.parse_args(argv)
    builds = _builds.builds(ap, a)
    groups = [g.split(":", 1) for g in a.groups.split(",") if g.strip()]
    if any(len(g) != 2 for g in groups):
        ap.error(f"--groups wants shape:kind items, got {a.groups!r}")
    got: dict = {}
    for rnd in range(a.rounds):
        for shape, group in groups:
            path = os.path.join(a.dir, f"{shape}_{a.size}B_seed{a.seed}.csv")
            if not os.path.exists(path):
                ap.error(f"{path} is missing: run python -m blockops bench csv-suite "
                         f"--size {a.size} --out-dir {a.dir} first")
            for label, root in _builds.order(builds, rnd):
                got.setdefault((shape, group, label), []).append(
                    _builds.run(CHILD, [path, shape, group, a.reps], root))
    print(f"csv_convert ns a value, one thread, best of {a.reps} passes, {a.rounds} rounds "
          f"with the builds alternating; load average {os.getloadavg()[0]:.2f} at the end")
    print("| group | build | each round | median | best |")
    print("|---|---|---|---:|---:|")
    for shape, group in groups:
        for label, _ in builds:
            v = got[(shape, group, label)]
            print(f"| {shape}: {group} | {label} | {' '.join(f'{x:.2f}' for x in v)} | "
                  f"{statistics.median(v):.2f} | {min(v):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
