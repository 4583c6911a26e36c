"""CSV reader assembly: a block's converted columns (filled slice by slice), the pandas frame
or dict of arrays handed out, and the whole-file frame of :func:`blockops.io.read_csv`."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import _compat, _core
from .._errors import CsvInferenceError, CsvParseError
from ._csv_infer import _inferred_spec, _join_state
from ._csv_options import _NP_OF, _T_BOOL, _T_DT, _T_DT_ISO, _T_F64, _T_STR, _T_WKT


class _BlockColumns:
    """One block's converted columns, filled slice by slice (``csv_convert`` with ``dest`` and
    ``row_offset``): values, masks and bad-row flags go straight into arrays sized for the
    whole block, from the first slice's rows per byte + 10% (grown by 1.5x, a copy, when that
    falls short), so a block's columns are never concatenated from per-slice parts (which
    would hold them twice). The arrays come from the output pool (``_core.pool_empty``), so a
    block's columns write over the pages of an earlier block's freed ones; capacity left unused
    in a new buffer costs address space only (pages nobody writes are not resident). Strings
    stay one Arrow chunk per slice."""

    def __init__(self, specs, rows: int, nbytes: int, block_bytes: int):
        self.specs = specs
        self.n = 0  # rows converted so far
        self.n_bad = 0  # of which bad (dropped when the block is finished)
        # inferred column -> (spec, line, value, widened state) of its first misfit
        self.mismatches: dict = {}
        self.strings = [[] for _ in specs]  # per str column: (offsets, data) per slice
        self.arrays = [[None, None, None] for _ in specs]  # values, latitudes, mask
        self.bad = None
        self.cap = 0
        self._resize(max(rows, int(rows * block_bytes / max(nbytes, 1) * 1.1) + 16))

    def _resize(self, cap: int) -> None:
        def grown(old, dtype, zero):
            new = _core.pool_empty(cap, dtype, zero)
            if old is not None:
                new[:self.n] = old[:self.n]
            return new

        for s, a in zip(self.specs, self.arrays):
            if s.code != _T_STR:
                a[0] = grown(a[0], np.float64 if s.code == _T_WKT else
                             np.int64 if s.code in (_T_DT, _T_DT_ISO) else _NP_OF[s.code], False)
            if s.code == _T_WKT:
                a[1] = grown(a[1], np.float64, False)
            if s.code == _T_STR or s.nullable:
                a[2] = grown(a[2], np.bool_, True)
        self.bad = grown(self.bad, np.bool_, True)
        self.cap = cap

    def reserve(self, rows: int) -> int:
        """Room for ``rows`` more rows; returns the row offset they go to."""
        if self.n + rows > self.cap:
            self._resize(max(self.n + rows, int(self.cap * 1.5)))
        return self.n

    def dest(self) -> tuple:
        return tuple(tuple(a) for a in self.arrays), self.bad

    def add(self, outs, rows: int) -> None:
        for s, chunks, (vals, _mask) in zip(self.specs, self.strings, outs):
            if s.code == _T_STR:
                chunks.append(vals)
        self.n += rows

    def outputs(self):
        """``(outputs, bad)`` in :func:`_assemble`'s format, trimmed to the rows converted."""
        n = self.n
        outs = []
        for s, (v, lat, m), chunks in zip(self.specs, self.arrays, self.strings):
            m = None if m is None else m[:n]
            if s.code == _T_STR:
                outs.append((chunks, m))
            elif s.code == _T_WKT:
                outs.append(((v[:n], lat[:n]), None))
            else:
                outs.append((v[:n], m))
        return outs, self.bad[:n]


def str_runs(offs, data, runs):
    """``csv_convert``'s string column as ``(offsets, data)`` pairs, one per run of rows a
    thread converted, in row order: the offsets of each start at 0 and index its own bytes
    (views, nothing copied; see ``bo_csv_col`` in bo_csv.h)."""
    runs = runs.reshape(-1, 2)
    n = len(offs) - len(runs)
    out = []
    for j, (row, at) in enumerate(runs.tolist()):
        end = int(runs[j + 1, 0]) if j + 1 < len(runs) else n
        o = offs[row + j:end + j + 1]
        out.append((o, data[at:at + int(o[-1])]))
    return out


def _str_array(chunks, mask: np.ndarray, keep, src):
    """A string column from its per-slice ``(offsets, data, runs)`` chunks: one Arrow array, or
    a chunked array of one per slice and run (pandas' Arrow strings hold it as is, no
    concatenation)."""
    import pyarrow as pa

    arrays = []
    r0 = 0
    for chunk in chunks:
        for offs, data in str_runs(*chunk):
            n = len(offs) - 1
            m = mask[r0:r0 + n]
            validity = None
            if m.any():
                validity = pa.py_buffer(np.packbits(~m, bitorder="little"))
            # No arr.validate(full=True) (a third of the string path): csv_convert checked
            # every value's UTF-8 while copying it, and a row with an ill-formed value is a bad
            # row, which ``keep`` drops (or the reader raised for it already).
            arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offs), pa.py_buffer(data),
                                                   validity,
                                                   int(m.sum()) if validity is not None else 0)
            if keep is not None:
                arr = arr.filter(pa.array(keep[r0:r0 + n]))
            arrays.append(arr)
            r0 += n
    return arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays, type=pa.large_string())


def _bigints(spec, arr, src) -> np.ndarray:
    """A ``bigint`` column: exact Python ints of its text (NaN where missing), as pandas gives
    integers that neither int64 nor uint64 holds. A value that is not an integer raises
    :class:`CsvInferenceError` for an inferred column (read_csv then reads the column as
    pandas would type it) and :class:`CsvParseError` for a given dtype."""
    vals = arr.to_pylist()
    out = np.empty(len(vals), dtype=object)
    for i, v in enumerate(vals):
        if v is None:
            out[i] = np.nan
            continue
        try:
            out[i] = int(v)
        except ValueError:
            if spec.infer_state is None:
                raise CsvParseError(f"{src.name}, column {spec.name!r}: {v!r} is not an integer "
                                    "(dtype bigint)", path=src.name, line=None,
                                    column=spec.name, value=v, byte_offset=None) from None
            try:
                float(v)
                state = (_T_F64, 0)
            except ValueError:
                state = (_T_STR, 0)
            state = _join_state(spec.infer_state, state)
            new = _inferred_spec(spec.field, spec.name, state)
            raise CsvInferenceError(
                f"{src.name}: values do not fit the types inferred from the sampled rows: "
                f"column {spec.name!r} (bigint): value {v!r}. Pass "
                f"dtypes={{{spec.name!r}: {new.dtype_name!r}}}; read_csv widens such columns "
                "by itself", path=src.name, line=None, column=spec.name, value=v,
                byte_offset=None, dtypes={spec.name: new.dtype_name},
                states={spec.name: state}) from None
    return out


def _assemble(specs, outs, keep, as_arrays, src) -> list:
    """C outputs -> list of (name, array) in output order."""
    import pandas as pd

    cols = []
    for s, (vals, mask) in zip(specs, outs):
        if s.dtype_name == "bigint":
            cols.append((s.name, _bigints(s, _str_array(vals, mask, keep, src), src)))
            continue
        if s.code == _T_STR:
            arr = _str_array(vals, mask, keep, src)
            if as_arrays:
                cols.append((s.name, np.asarray(arr.to_pylist(), dtype=object)))
            else:
                ser = pd.Series(arr, dtype=_compat.str_dtype())
                if s.category:
                    ser = ser.astype("category")
                cols.append((s.name, ser.array))
            continue
        if s.code == _T_WKT:
            lon, lat = vals
            if keep is not None:
                lon, lat = lon[keep], lat[keep]
            n_lon, n_lat = s.out_names()
            cols.append((n_lon, lon))
            cols.append((n_lat, lat))
            continue
        v = vals if keep is None else vals[keep]
        m = None if mask is None else (mask if keep is None else mask[keep])
        if s.code in (_T_DT, _T_DT_ISO):
            v = v.view("datetime64[ns]")
        if m is not None and s.nullable:
            if as_arrays:
                v = np.ma.MaskedArray(v, mask=m)
            elif s.code == _T_BOOL:
                v = pd.arrays.BooleanArray(v, m)
            else:
                v = pd.arrays.IntegerArray(v, m)
        cols.append((s.name, v))
    return cols


def _finish_block(cols, rows, row0, n_rows, as_arrays, rename):
    if as_arrays:
        d = {rename.get(k, k): v for k, v in cols}
        d["__row__"] = (np.arange(row0, row0 + n_rows, dtype=np.int64) if rows is None
                        else rows.astype(np.int64))
        return d
    import pandas as pd

    index = pd.RangeIndex(row0, row0 + n_rows) if rows is None else pd.Index(rows, dtype=np.int64)
    data = {rename.get(k, k): v for k, v in cols}
    return pd.DataFrame(data, index=index, copy=False)


def _empty_frame(specs, rename):
    import pandas as pd

    data = {}
    for s in specs:
        if s.code == _T_WKT:
            for nm in s.out_names():
                data[rename.get(nm, nm)] = np.empty(0, np.float64)
            continue
        nm = rename.get(s.name, s.name)
        if s.dtype_name in ("object", "bigint"):
            data[nm] = np.empty(0, dtype=object)
        elif s.code == _T_STR:
            data[nm] = pd.Series([], dtype="category" if s.category else
                                 _compat.str_dtype()).array
        elif s.code in (_T_DT, _T_DT_ISO):
            data[nm] = np.empty(0, "datetime64[ns]")
        elif s.nullable:
            data[nm] = pd.array([], dtype="boolean" if s.code == _T_BOOL else
                                s.dtype_name[0].upper() + s.dtype_name[1:])
        else:
            data[nm] = np.empty(0, _NP_OF[s.code])
    return pd.DataFrame(data, index=pd.RangeIndex(0, 0))


def _read_all(reader):
    import pandas as pd

    if len(reader._sources) == 1 and not reader.as_arrays:
        # one source: its blocks convert into one set of arrays (CsvBlockReader._whole)
        reader._whole_mode = True
        empty = None
        with reader:
            for block in reader:  # only the empty frame of a source without rows
                empty = block
        df = reader._finish_whole()
        if df is None:
            return empty if empty is not None else reader._empty_block()
        df.attrs["blockops_stats"] = dataclasses.asdict(reader.stats)
        return df
    total_bytes = sum(s.size or 0 for s in reader._sources)
    acc: dict[Any, _Column] = {}
    order: list = []
    index_parts = []
    n = 0
    with reader:
        for block in reader:
            m = len(block)
            if not order:
                order = list(block.columns)
                cap = m
                if total_bytes and reader.stats.bytes_read and m:
                    per_row = max(1.0, reader.stats.bytes_read / m)
                    cap = max(m, int(total_bytes / per_row * 1.05) + 16)
                for c in order:
                    acc[c] = _Column(block[c], cap)
            else:
                for c in order:
                    acc[c].append(block[c])
            if not isinstance(block.index, pd.RangeIndex):
                index_parts.append(np.asarray(block.index, dtype=np.int64))
            else:
                index_parts.append(block.index)
            n += m
    stats = reader.stats
    if not order:
        return reader._empty_block()
    data = {c: acc[c].finish() for c in order}
    if stats.rows_skipped == 0:
        index = pd.RangeIndex(0, n)
    else:
        index = pd.Index(np.concatenate([np.asarray(p, dtype=np.int64) for p in index_parts]),
                         dtype=np.int64)
    df = pd.DataFrame(data, index=index, copy=False)
    df.attrs["blockops_stats"] = dataclasses.asdict(stats)
    return df


def _pool_empty(n: int, dtype) -> np.ndarray:
    """``np.empty`` from the output pool (object arrays, which hold references, from NumPy)."""
    return np.empty(n, dtype) if dtype.hasobject else _core.pool_empty(n, dtype, False)


class _Column:
    """Grow-once accumulator: a preallocated NumPy array, or Arrow chunks for strings."""

    def __init__(self, first, cap):
        self.dtype = first.dtype
        if isinstance(first.dtype, np.dtype):
            self.kind = "np"
            self.buf = _pool_empty(max(cap, len(first)), first.dtype)
            self.n = 0
        else:
            self.kind = "ext"
            self.chunks = []
        self.append(first)

    def append(self, col):
        if self.kind == "np":
            v = np.asarray(col)
            need = self.n + len(v)
            if need > len(self.buf):
                new = _pool_empty(max(need, int(len(self.buf) * 1.5) + 16), self.buf.dtype)
                new[: self.n] = self.buf[: self.n]
                self.buf = new
            self.buf[self.n:need] = v
            self.n = need
        else:
            self.chunks.append(col.array)

    def finish(self):
        import pandas as pd

        if self.kind == "np":
            return self.buf[: self.n]
        if len(self.chunks) == 1:
            return self.chunks[0]
        if isinstance(self.dtype, pd.CategoricalDtype):
            from pandas.api.types import union_categoricals

            return union_categoricals(self.chunks)
        if isinstance(self.dtype, pd.StringDtype) and self.dtype.storage == "pyarrow":
            import pyarrow as pa

            parts = []
            for c in self.chunks:  # a block's strings may be chunked already (one per slice)
                a = pa.array(c)
                parts.extend(a.chunks if isinstance(a, pa.ChunkedArray) else [a])
            chunked = pa.chunked_array(parts, type=parts[0].type)
            return pd.array(chunked, dtype=self.dtype)
        return pd.concat([pd.Series(c, copy=False) for c in self.chunks], ignore_index=True).array
