"""CSV type inference: which rows are read (the first MiB after the header, less for a file
under 96 MiB, and windows over the rest of a file), how the types of parts of a column join
into the one pandas gives the whole column, and what happens when a later value does not fit.
See ``docs/csv.md``."""
from __future__ import annotations

import logging
import os

import numpy as np

from .. import _core
from .._errors import CsvInferenceError
from ._csv_options import (_T_BIGINT, _T_BOOL, _T_F64, _T_INT64, _T_STR, _T_U64, _field_value,
                           _Spec)

log = logging.getLogger("blockops")
#: Column types are inferred from the complete rows in the first INFER_BYTES of the data after
#: the header (not from the first block), so inferred types do not depend on the block size,
#: and, for a file on disk, from INFER_SAMPLES windows of INFER_SAMPLE_BYTES spread evenly over
#: the rest of the file, the last one ending at its end, so that most late changes of type
#: (an int column's first NA, text in a column empty so far) are seen before the first block.
#: A file on disk of less than 96 MiB is sampled less, in proportion (sample_bytes).
INFER_BYTES = 1 << 20


INFER_SAMPLES = 8


INFER_SAMPLE_BYTES = 64 << 10


def _join_state(a: tuple, b: tuple) -> tuple:
    """The inference state of a column from two parts of its values. A state is ``(type,
    na)`` with ``type`` one of int64, float64, bool, str (what ``csv_infer`` reports) and
    ``na`` 0 (no missing value), 1 (some) or 2 (nothing but missing values: the type says
    nothing). Types join as pandas types a whole column: int and float give float, bool with
    a number gives str (pandas: object), str absorbs everything."""
    (ta, na), (tb, nb) = a, b
    if na == 2 and nb == 2:
        return (_T_F64, 2)
    if na == 2 or nb == 2:
        return ((tb if na == 2 else ta), 1)
    ints = {_T_INT64, _T_U64, _T_BIGINT}
    if ta == tb:
        t = ta
    elif {ta, tb} <= ints:
        t = _T_BIGINT  # int64 with uint64 or beyond: exact integers (pandas: object)
    elif {ta, tb} <= ints | {_T_F64}:
        t = _T_F64
    else:
        t = _T_STR
    return (t, max(na, nb))


def _inferred_spec(field, name, state) -> "_Spec":
    """The output column of an inference state, as pandas types it: int with missing values
    is float64, bool with missing values the nullable ``boolean``, all missing float64."""
    t, na = state
    if t == _T_INT64 and na:
        t = _T_F64
    if t == _T_U64 and na:
        t = _T_BIGINT
    if t == _T_BIGINT:  # exact ints, missing values as NaN (an object column, as pandas)
        return _Spec(field, name, _T_STR, True, None, False, "bigint", tuple(state))
    nullable = t == _T_STR or (t == _T_BOOL and na == 1)
    dn = {_T_INT64: "int64", _T_U64: "uint64", _T_F64: "float64",
          _T_BOOL: "boolean" if nullable else "bool", _T_STR: "str"}[t]
    return _Spec(field, name, t, nullable, None, False, dn, tuple(state))


def file_windows(reader, path, data_off: int, nf: int, fs=None, size=None) -> list:
    """``(data, index)`` of the rows inference reads from a file on disk: the complete rows
    of its first INFER_BYTES after ``data_off``, then of sample windows over the rest.

    A sample window starts after its first line break, which is a row boundary unless the
    break is inside a quoted field; a window with the quote character in it is therefore
    left out (its rows could be cut wrongly, and a wrong type would be worse than none),
    as is one with no complete row. The head window is [] when no row ends in it.

    ``fs``: an fsspec file system holding ``path`` (of ``size`` bytes): each window is one
    ranged read, so a remote file is typed exactly as the same file on disk. A server that
    does not serve byte ranges gives no windows (types then come from the first block, as for
    a stream): ``fs.cat_file`` took its whole-file answer for the window, read the header as
    data and typed every column str, and held the whole file in memory."""
    if fs is not None:
        from .._errors import BlockopsIOError
        from ._csv_sources import _FsRange

        f = _FsRange(fs, path, path, 0, size)
        try:
            return _windows(reader, f.pread, size, data_off, nf)
        except BlockopsIOError as e:
            log.debug("csv: no inference windows for %s: %s", path, e)
            return []
        finally:
            f.close()
    with open(path, "rb") as f:
        fd = f.fileno()
        return _windows(reader, lambda n, at: os.pread(fd, n, at), os.fstat(fd).st_size,
                        data_off, nf)


def sample_bytes(size: int) -> tuple:
    """``(head, window)``: the bytes inference reads from the start of the data of a file of
    ``size`` bytes, and from each of its sample windows. About 1/48 of the file (head ~1/96,
    the 9 windows as much again), within [1/4, 1] of INFER_BYTES and INFER_SAMPLE_BYTES: the
    full sample from 96 MiB up. Classifying a byte costs about what reading it does, so the
    full 1.6 MB sample was 5-9 % of reading a 30 MB file, where a third of it is 2-3 %."""
    head = min(INFER_BYTES, max(INFER_BYTES // 4, size // 96))
    window = min(INFER_SAMPLE_BYTES, max(INFER_SAMPLE_BYTES // 4, size // 768))
    return head, window


def _windows(reader, pread, end: int, data_off: int, nf: int) -> list:
    tok = (reader.delimiter, reader.quotechar, nf)
    out = []

    def rows(data, final, n_threads=1):
        ix, n_rows, _, _, n_bad, err = _core.csv_tokenize(
            data, len(data), *tok, final, 0, reader.max_row_bytes, n_threads)
        return ix if err is None and n_rows > n_bad else None

    head_bytes, w = sample_bytes(end)
    head = pread(min(head_bytes, max(0, end - data_off)), data_off)
    ix = rows(head, data_off + len(head) >= end, reader.n_threads)
    if ix is None:
        return []
    out.append((head, ix))
    lo = data_off + head_bytes
    if lo >= end or INFER_SAMPLES <= 0 or w <= 0:
        return out
    span = end - lo
    if span <= w * (INFER_SAMPLES + 1):  # the rest is small: all of it, window by window
        starts = range(lo, end, w)
    else:
        starts = [lo + (span - w) * i // INFER_SAMPLES for i in range(INFER_SAMPLES + 1)]
    quote = None if reader.quotechar is None else reader.quotechar.encode()
    for at in starts:
        data = pread(min(w, end - at), at)
        if quote is not None and quote in data:
            continue
        k = data.find(b"\n")
        if k < 0:
            continue
        data = data[k + 1:]
        ix = rows(data, at + k + 1 + len(data) >= end)
        if ix is not None:
            out.append((data, ix))
    return out


def mismatches(reader, src, piece, ix, bad, acc, line_base) -> bool:
    """Whether some of a slice's bad rows are bad only because a value does not fit an
    inferred (not given) type; such a row is never dropped. Each inferred non-string
    column is converted again on its own to find its first misfit; the column's new
    state joins the old one with the slice's (what pandas would type it as). A misfit is
    kept in ``acc.mismatches`` (first per column) and the slice's bad rows are left
    alone: the block is not handed out. Returns False when every bad row is bad for
    another reason (wrong field count, quoting, a given dtype, UTF-8), or when, with
    ``on_bad_lines="error"``, such a row comes first (its error is raised as before)."""
    inferred = [(i, s) for i, s in enumerate(reader._specs)
                if s.infer_state is not None and s.code != _T_STR]
    if not inferred:
        return False
    cspecs = reader._cspecs[1]
    found = {}
    explained = np.zeros(len(bad), dtype=bool)
    for i, s in inferred:
        _, bad_c, err_c = _core.csv_convert(piece, ix, [cspecs[i]], reader.quotechar,
                                            reader.n_threads, True, None, 0,
                                            reader.short_rows == "pad", reader._simd)
        if err_c is None:
            continue
        explained |= bad_c[:len(bad)]
        t, na = _core.csv_infer(piece, ix, s.field, reader.quotechar, reader._na_for(s.name),
                                reader.short_rows == "pad")
        found[s.name] = (s, int(err_c.index), _field_value(err_c.reason),
                         _join_state(s.infer_state, (t, na)))
    if not found:
        return False
    first_bad = int(np.flatnonzero(bad)[0])
    if reader.on_bad_lines == "error" and not explained[first_bad]:
        return False
    for name, (s, row, value, state) in found.items():
        if name in acc.mismatches:
            continue
        start = int(_core.csv_rows(ix, np.array([row], dtype=np.int64))[0][0])
        line = line_base + _core.csv_count_lines(piece, 0, start)
        acc.mismatches[name] = (s, line, value, state)
    return True


def widen_in_place(reader, acc, r0: int, n_rows: int) -> bool:
    """Widen the columns of ``acc.mismatches`` where they stand, when each widening is one the
    values read so far can be cast to exactly: int64 -> float64 (a missing value or a number
    later on; a cast rounds an int64 as parsing its text as a double does) and bool -> the
    nullable boolean (a missing value later on). Only for a read of one source into one set of
    arrays (read_csv's whole mode): a streaming reader has handed its blocks out. The slice
    ``[r0, r0 + n_rows)`` just converted is undone (its string chunks dropped, its bad flags
    cleared) for the caller to convert again with the new types. Returns False, changing
    nothing, when some widening needs the text again (to str, to exact big ints): read_csv
    then reads the source again."""
    new = {}
    for name, (s, _line, _value, state) in acc.mismatches.items():
        w = _inferred_spec(s.field, name, state)
        if not ((s.code == _T_INT64 and w.code == _T_F64) or
                (s.code == _T_BOOL and not s.nullable and w.code == _T_BOOL and w.nullable)):
            return False
        new[name] = w
    acc.n -= n_rows
    for i, spec in enumerate(acc.specs):
        if spec.code == _T_STR:
            acc.strings[i].pop()  # the slice's chunk
    acc.bad[r0:r0 + n_rows] = False
    for i, spec in enumerate(reader._specs):
        w = new.get(spec.name)
        if w is None:
            continue
        a = acc.arrays[i]
        if w.code == _T_F64:
            cast = _core.pool_empty(acc.cap, np.float64, False)
            cast[:r0] = a[0][:r0]
            a[0] = cast
        else:  # the nullable boolean: nothing read so far was missing
            a[2] = _core.pool_empty(acc.cap, np.bool_, True)
        reader._specs[i] = w  # acc.specs is the same list
        log.info("read_csv: column %r widened to %s in place at row %d", spec.name,
                 w.dtype_name, r0)
    reader._cspecs = None
    reader.stats.widened += len(new)
    acc.mismatches.clear()
    return True


def inference_error(src, mismatches) -> CsvInferenceError:
    """The error for a block with values that do not fit their inferred types, naming
    every such column (first line and value of each) and the ``dtypes=`` to pass."""
    parts, dtypes, states = [], {}, {}
    for name, (s, line, value, state) in mismatches.items():
        new = _inferred_spec(s.field, name, state)
        dtypes[name] = new.dtype_name
        states[name] = state
        what = "a missing value" if value is None else f"value {value!r}"
        parts.append(f"column {name!r} ({s.dtype_name}): line {line}, {what}")
    first = next(iter(mismatches.values()))
    message = (f"{src.name}: values do not fit the types inferred from the sampled rows "
               "(the first rows and, for a file, windows spread over it): "
               + "; ".join(parts) + f". Pass dtypes={dtypes!r}; read_csv widens such "
               "columns by itself (a streaming reader cannot retype blocks it handed out)")
    return CsvInferenceError(message, path=src.name, line=first[1], column=first[0].name,
                             value=first[2], byte_offset=None, dtypes=dtypes,
                             states=states)
