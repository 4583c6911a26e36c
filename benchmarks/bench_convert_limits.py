"""The CSV converters against a reference parser and a pass over the bytes: ns a value of a column group of a suite file
(``python -m blockops bench csv-suite`` writes them), one thread, three ways:

* **blockops**: ``csv_convert`` of the group, as ``bench_kernels.py`` and the suite's
  ``--kernels`` measure it (each of the reader's slices tokenized, untimed, then converted,
  timed).
* **text read once**: each slice, just tokenized (untimed), read once (NumPy
  ``bitwise_or.reduce`` over its text as 64-bit words, timed), per value of the group: what a
  pass after the tokenizer's that reads every byte of the slice costs, from wherever the
  tokenizer left them (the index, 4 bytes a field, not included). A converter reads only the
  lines holding its fields and their index: on a table of long rows with few numbers (text)
  it is the faster of the two.
* **peer**: the group's fields packed end to end and parsed one by one, as a library parses
  numbers: ``fast_float::from_chars`` (int64: from fast_float 7, whose integer parser it is;
  with older headers ``std::from_chars``) (``benchmarks/peers/from_chars.cpp``, built with ``--cxx -O3 -march=native`` against the
  fast_float headers in ``--fast-float-include``). Empty fields (missing values) are left out
  of its input. No CSV and no index: an easier job than a converter's. Its values are checked
  against blockops' ``read_csv`` of the file (bit for bit, in the order of the text; the run
  stops at a difference).

    python benchmarks/bench_convert_limits.py --dir /work/bench/suite \\
        --groups text:int64,bsm:int64,bsm:float64 --fast-float-include /path/to/fast_float/include

Each round runs every group in a fresh process; the report gives each round's figure, the
median and the best. The fast_float headers: the ``include`` directory of
https://github.com/fastfloat/fast_float (or Debian's ``libfast-float-dev``, /usr/include).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

import _builds  # benchmarks/_builds.py (this directory is on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))

# one file, one group: ns a value of the converter and of the text read once, best of reps passes
CHILD = _builds.GROUP_CHILD + r"""
import numpy as np
conv = read = float("inf")
for rep in range(reps + 1):  # pass 0 untimed (writes every page of dest)
    tc = tr = 0.0
    r0 = 0
    for piece, ix, r in slices():
        t0 = time.perf_counter()
        convert(piece, ix, r0)
        tc += time.perf_counter() - t0
        r0 += r
    for piece, ix, r in slices():  # the same slices, tokenized again: read instead
        words = np.frombuffer(piece, dtype=np.uint8)
        words = words[: len(words) // 8 * 8].view(np.uint64)
        t0 = time.perf_counter()
        np.bitwise_or.reduce(words)
        tr += time.perf_counter() - t0
    if rep:
        conv, read = min(conv, tc), min(read, tr)
print(json.dumps({"convert": conv * 1e9 / n_values, "read": read * 1e9 / n_values,
                  "values": n_values}))
"""


def _fields_file(path: str, shape: str, kind: str, tmp: str) -> str:
    """The group's non-empty fields (kind: int64 or float64), read with Python's csv module,
    as from_chars.cpp reads them; cached in tmp by file and group."""
    from blockops._bench import csv_shapes as S

    st = os.stat(path)
    key = hashlib.sha1(f"{path}:{st.st_size}:{st.st_mtime_ns}:{kind}".encode()).hexdigest()[:16]
    out = os.path.join(tmp, f"{shape}_{kind}_{key}.fields")
    if os.path.exists(out):
        return out
    cols = [i for i, (_, k) in enumerate(S.columns_of(S.SHAPES[shape])) if k == kind]
    with open(path, newline="", encoding="utf-8") as f, open(out + ".part", "wb") as o:
        rd = csv.reader(f)
        next(rd)
        for row in rd:
            for i in cols:
                if row[i]:
                    b = row[i].encode()
                    o.write(struct.pack("<I", len(b)) + b)
    os.replace(out + ".part", out)
    return out


def _check_peer(path: str, shape: str, kind: str, values_file: str) -> None:
    """The peer's values against blockops' read_csv of the file (the group's columns, row by
    row, missing values left out as the fields file leaves them): exit at a difference."""
    import numpy as np

    import blockops.io as bio
    from blockops._bench import csv_shapes as S
    from blockops._bench.csv_suite import _spell

    schema = S.columns_of(S.SHAPES[shape])
    df = bio.read_csv(path, dtypes={c: _spell(k, "blockops") for c, k in schema})
    ours = df[[c for c, k in schema if k == kind]].to_numpy(np.float64 if kind == "float64"
                                                            else np.int64).ravel()
    theirs = np.fromfile(values_file, np.float64 if kind == "float64" else np.int64)
    if kind == "float64":
        ours, theirs = ours[~np.isnan(ours)], theirs[~np.isnan(theirs)]
    if ours.shape != theirs.shape or not np.array_equal(ours.view(np.int64),
                                                        theirs.view(np.int64)):
        bad = (np.flatnonzero(ours != theirs)[:3] if ours.shape == theirs.shape
               else f"{ours.size} values against {theirs.size}")
        sys.exit(f"{shape}:{kind}: blockops and the peer differ (at {bad})")


def _peer_binary(cxx: str, include: str, tmp: str) -> str:
    exe = os.path.join(tmp, "from_chars")
    src = os.path.join(HERE, "peers", "from_chars.cpp")
    cmd = [cxx, "-O3", "-march=native", "-std=c++17", f"-I{include}", src, "-o", exe]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{' '.join(cmd)}:\n{out.stderr.strip()[-800:]}")
    return exe


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=30_000_000, help="file size in bytes")
    ap.add_argument("--groups", default="text:int64,bsm:int64,wide:int64,bsm:float64",
                    help="comma-separated shape:kind, kind int64 or float64 "
                         "(default: %(default)s)")
    ap.add_argument("--fast-float-include", default="/usr/include",
                    help="the directory holding fast_float/fast_float.h (default: %(default)s)")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"), help="C++17 compiler")
    _builds.add_args(ap, reps=30, rounds=3)
    a = ap.parse_args(argv)
    groups = [g.split(":", 1) for g in a.groups.split(",") if g.strip()]
    if any(len(g) != 2 or g[1] not in ("int64", "float64") for g in groups):
        ap.error(f"--groups wants shape:int64 or shape:float64 items, got {a.groups!r}")
    if not os.path.exists(os.path.join(a.fast_float_include, "fast_float", "fast_float.h")):
        ap.error(f"no fast_float/fast_float.h in {a.fast_float_include}")
    if not shutil.which(a.cxx):
        ap.error(f"no C++ compiler {a.cxx!r}")
    root = _builds.builds(ap, a)[0][1]
    tmp = os.path.join(tempfile.gettempdir(), "blockops-convert-limits")
    os.makedirs(tmp, exist_ok=True)
    exe = _peer_binary(a.cxx, a.fast_float_include, tmp)
    got: dict = {}
    ff_version = None
    for rnd in range(a.rounds):
        for shape, kind in groups:
            path = _builds.suite_file(ap, a, shape)
            b = _builds.run(CHILD, [path, shape, kind, a.reps], root)
            fields = _fields_file(path, shape, kind, tmp)
            check = rnd == 0
            values = os.path.join(tmp, "values.bin")
            out = subprocess.run([exe, fields, "double" if kind == "float64" else "int64",
                                  str(a.reps)] + ([values] if check else []),
                                 capture_output=True, text=True, check=True)
            if check:
                _check_peer(path, shape, kind, values)
            p = json.loads(out.stdout)
            if p["unparsed"]:
                sys.exit(f"{shape}:{kind}: the peer did not parse {p['unparsed']} fields")
            ff_version = p["fast_float"]
            for what, v in (("blockops csv_convert", b["convert"]),
                            ("the slices' text read once", b["read"]),
                            (p["parser"], p["ns"])):
                got.setdefault((shape, kind, what), []).append(v)
            got[(shape, kind, "values")] = (b["values"], p["fields"])
    print(f"ns a value, one thread, best of {a.reps} passes, {a.rounds} rounds (the peers' "
          f"values equal read_csv's); fast_float "
          f"{ff_version}, {a.cxx} -O3 -march=native; load average {os.getloadavg()[0]:.2f} "
          f"at the end")
    print("| group | measure | each round | median | best |")
    print("|---|---|---|---:|---:|")
    for shape, kind in groups:
        nv, npeer = got[(shape, kind, "values")]
        for (s, k, what), v in got.items():
            if (s, k) == (shape, kind) and what != "values":
                note = f" ({npeer:,} fields)" if "from_chars" in what else ""
                print(f"| {shape}: {kind} | {what}{note} | {' '.join(f'{x:.2f}' for x in v)} | "
                      f"{statistics.median(v):.2f} | {min(v):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
