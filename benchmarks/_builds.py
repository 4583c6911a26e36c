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
