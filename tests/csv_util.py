"""Helpers shared by the tests/test_csv_*.py files (the hostile generators and the reference
live in tests/reference/csv_ref.py; this module only drives the reader)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data", "csv")
CORPUS_DIR = os.path.join(os.path.dirname(HERE), "csrc", "fuzz", "corpus", "csv")


def _bsm_sample() -> str:
    """The shared BSM sample (../shared/data/bsm/ beside the repository), or the copy shipped
    in tests/data (gzip) unpacked once into the temp directory when the clone stands alone."""
    shared = os.path.normpath(
        os.path.join(HERE, "..", "..", "shared", "data", "bsm", "sample_10k.csv"))
    if os.path.exists(shared):
        return shared
    import gzip
    import tempfile

    packed = os.path.join(HERE, "data", "bsm_sample_10k.csv.gz")
    out = os.path.join(tempfile.gettempdir(), "blockops-bsm-sample_10k.csv")
    if not os.path.exists(out) and os.path.exists(packed):
        tmp = f"{out}.{os.getpid()}"
        with gzip.open(packed, "rb") as src, open(tmp, "wb") as dst:
            dst.write(src.read())
        os.replace(tmp, out)
    return out


#: the BSM sample (19-column Wyoming CV Pilot format, 10,000 rows)
BSM_SAMPLE = _bsm_sample()


def csv_api():
    """``blockops.io`` with the CSV reader; fails (not skips) when the reader is missing."""
    import blockops.io as bio

    missing = [n for n in ("CsvBlockReader", "read_csv") if not hasattr(bio, n)]
    if missing:
        pytest.fail(f"blockops.io lacks {missing}: the CSV reader is not built into this install")
    return bio


def write(tmp_path, data: bytes, name: str = "in.csv") -> str:
    p = os.path.join(str(tmp_path), name)
    with open(p, "wb") as fh:
        fh.write(data)
    return p


def read_blocks(source, **kw):
    """Iterate a CsvBlockReader; return (blocks, stats)."""
    bio = csv_api()
    with bio.CsvBlockReader(source, **kw) as r:
        blocks = list(r)
        stats = r.stats
    return blocks, stats


def concat_blocks(blocks, like=None):
    frames = [b for b in blocks if len(b)] or blocks[:1]
    if not frames:
        return like
    return pd.concat(frames) if len(frames) > 1 else frames[0]


def assert_frames_identical(got, want, *, check_index_type="equiv", msg=""):
    """Exact equality: values (floats bitwise, -0.0 vs 0.0 and NaN payloads aside from NaN),
    dtypes, column names and order, index."""
    __tracebackhide__ = True
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_index_type=check_index_type,
                                  check_column_type=False, obj=f"DataFrame {msg}")
    for c in want.columns:
        w = want[c].to_numpy()
        if w.dtype.kind == "f":
            g = got[c].to_numpy()
            # -0.0 == 0.0 for assert_frame_equal: compare the sign bit too
            assert np.array_equal(np.signbit(g), np.signbit(w)), f"{msg} column {c!r}: sign of zero"


def assert_blocks_well_formed(blocks, stats=None):
    """Each block's index continues the previous one's (global row numbers), is strictly
    increasing, and is a RangeIndex when no row was skipped."""
    __tracebackhide__ = True
    last = -1
    for b in blocks:
        idx = b.index
        assert idx.dtype.kind == "i", f"index dtype {idx.dtype}"
        if len(idx):
            vals = np.asarray(idx)
            assert vals[0] > last, f"block index starts at {vals[0]} after {last}"
            assert np.all(np.diff(vals) > 0), "block index not strictly increasing"
            last = int(vals[-1])
        if stats is not None and stats.rows_skipped == 0 and len(idx):
            assert isinstance(idx, pd.RangeIndex), f"expected RangeIndex, got {type(idx)}"
            assert idx.step == 1


def combos(blocksizes, threads):
    return [(bs, nt) for bs in blocksizes for nt in threads]


def bs_kw(bs):
    return {} if bs is None else {"blocksize": bs}


def skipped_line_numbers(stats, path=None):
    """``stats.skipped_lines`` as plain line numbers.  The contract says line numbers; the
    reader gives ``(path, line)`` pairs (useful with several files), which is accepted here
    as long as the path is right."""
    out = []
    for item in stats.skipped_lines:
        if isinstance(item, tuple):
            p, line = item
            if path is not None:
                assert os.fspath(p) == os.fspath(path), (p, path)
            out.append(line)
        else:
            out.append(item)
    return out
