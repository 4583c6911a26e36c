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
CHILD = _builds.GROUP_CHILD + r"""
best = float("inf")
for rep in range(reps + 1):  # the first pass writes every page of dest (untimed)
    t, r0 = 0.0, 0
    for piece, ix, r in slices():
        t0 = time.perf_counter()
        convert(piece, ix, r0)
        t += time.perf_counter() - t0
        r0 += r
    if rep:
        best = min(best, t)
print(json.dumps(best * 1e9 / n_values))
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
            path = _builds.suite_file(ap, a, shape)
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
