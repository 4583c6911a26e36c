"""Row selection of a pandas DataFrame by a boolean mask, column by column (internal).

``take_rows(df, mask)`` equals ``df[mask]`` (values, dtypes, index, column labels, ``attrs``)
and is what the V2X operators use to keep a block's rows. ``df[mask]`` was a large part of
the pipeline's clean step (benchmarks/RESULTS.md, session 20), for two reasons:

* NumPy selects by a boolean mask with a branch per row. Half the rows of a block are kept,
  in no pattern, so that branch is mispredicted half the time: 1.4 ms for 256 K float64s,
  against 0.2 ms for a gather by the kept positions (``np.flatnonzero`` once for all columns).
* Each selected column is fresh memory, and the kernel faults and zeroes its pages at the first
  write (about 0.5 ms a MB on the benchmark machine), every block again. The gathers write into
  buffers of blockops' output pool (``_core.pool_empty``), which keeps freed buffers' pages.

NumPy columns and the values and masks of pandas' nullable columns are gathered that way;
other columns (Arrow-backed strings, categoricals, ...) use their own ``take`` (pyarrow's
for strings, into Arrow's memory pool).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _core

__all__ = ["take_rows"]


def _gather(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    if a.dtype.hasobject or a.ndim != 1:
        return a.take(idx)
    out = _core.pool_empty(len(idx), a.dtype, False)
    np.take(a, idx, out=out)
    return out


def _take_array(arr, idx: np.ndarray):
    if isinstance(arr, np.ndarray):
        return _gather(arr, idx)
    if isinstance(arr, pd.arrays.NumpyExtensionArray):
        return _gather(arr.to_numpy(), idx)
    data, mask = getattr(arr, "_data", None), getattr(arr, "_mask", None)
    if (isinstance(arr, (pd.arrays.IntegerArray, pd.arrays.FloatingArray,
                         pd.arrays.BooleanArray))
            and isinstance(data, np.ndarray) and isinstance(mask, np.ndarray)):
        return type(arr)(_gather(data, idx), _gather(mask, idx), copy=False)
    return arr.take(idx)


def take_rows(df: pd.DataFrame, mask) -> pd.DataFrame:
    """``df[mask]`` for a boolean ``mask`` of ``len(df)`` (a new frame; ``df`` is unchanged)."""
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.shape != (len(df),):
        raise ValueError(f"take_rows: expected a bool mask of {len(df)} rows, got "
                         f"{mask.dtype} {mask.shape}")
    idx = np.flatnonzero(mask)
    # keyed by position, so duplicate labels survive; the labels are put back after
    arrays = {i: _take_array(s.array, idx) for i, (_, s) in enumerate(df.items())}
    out = pd.DataFrame(arrays, index=df.index.take(idx), copy=False)
    out.columns = df.columns
    return out.__finalize__(df)
