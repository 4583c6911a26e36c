"""The correctness check of the CSV benchmark suite: did every reader return the same rows and
values?

Every column a reader returns is brought to the canonical form of the kind its shape declares
(:data:`blockops._bench.csv_shapes.KINDS`), whatever type the reader chose:

* ``int64``, ``Int64``, ``float64``: float64, missing values as one NaN bit pattern, every other
  value bit for bit (so a float parsed one ulp off differs; ints up to 2**53 are exact, which
  covers every int of the suite). Text (a reader that left the column as strings) is converted
  with Arrow's cast.
* ``timestamp_utc``: int64 nanoseconds since the epoch in UTC, missing as INT64_MIN; a
  timestamp without a zone counts as UTC wall time (blockops' ``datetime`` drops the ``Z``);
  text is parsed as ISO 8601 with Arrow's cast.
* ``str``: the UTF-8 bytes, with an empty string and a missing value the same (pandas and
  polars read an empty field as missing, pyarrow and DuckDB as ``""``).

The canonical columns are hashed (BLAKE2b) in chunks of :data:`DIGEST_ROWS` rows, so the whole
table is compared without moving it between processes; a differing chunk names the rows to look
at, and the values of sampled rows show what differs.

The reference the readers are compared with is none of them: :func:`reference` parses the file
with Python's ``csv`` module (RFC 4180 quoting, quoted line breaks) and converts each field with
``int()``, ``float()`` (correctly rounded) and ``datetime.fromisoformat``, chunk by chunk.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import os
from typing import Any, Optional

import numpy as np

__all__ = ["DIGEST_ROWS", "digest_columns", "reference", "compare", "kind_of_type",
           "to_arrow_columns"]

#: Rows per digest: part of the cached reference's format.
DIGEST_ROWS = 1 << 16
#: Bumped whenever the canonical form or the digest changes (cached references are redone).
REF_FORMAT = 1

_NAN = np.array([0x7FF8000000000000], dtype=np.uint64).view(np.float64)[0]
_NAT = np.iinfo(np.int64).min
_NUMERIC = ("int64", "Int64", "float64")


def _hash(*parts) -> str:
    h = hashlib.blake2b(digest_size=12)
    for p in parts:
        h.update(memoryview(np.ascontiguousarray(p)).cast("B") if isinstance(p, np.ndarray)
                 else p)
    return h.hexdigest()


# --------------------------------------------------------------------------- arrow columns

def to_arrow_columns(obj) -> tuple[list, list]:
    """(names, pyarrow arrays) of a pandas or polars frame, an Arrow table or record batch
    reader, or a dict of arrays."""
    import pyarrow as pa

    mod = type(obj).__module__
    if isinstance(obj, pa.RecordBatchReader):
        obj = obj.read_all()
    if isinstance(obj, pa.Table):
        return list(obj.column_names), [c for c in obj.columns]
    if mod.startswith("polars"):
        return [str(c) for c in obj.columns], [obj[c].to_arrow() for c in obj.columns]
    if mod.startswith("pandas"):
        names = [str(c) for c in obj.columns]
        cols = []
        for i in range(obj.shape[1]):
            s = obj.iloc[:, i]
            arr = getattr(s.array, "_pa_array", None)  # Arrow-backed: as it is
            cols.append(arr if arr is not None else pa.array(s, from_pandas=True))
        return names, cols
    if isinstance(obj, dict):
        return [str(k) for k in obj], [pa.array(v, from_pandas=True) for v in obj.values()]
    raise TypeError(f"cannot check a {type(obj)!r}")


def kind_of_type(t) -> str:
    """What an Arrow type holds: int, float, str, timestamp, bool, other."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or \
            getattr(pa.types, "is_string_view", lambda _t: False)(t):
        return "str"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "timestamp"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_null(t):
        return "null"
    return "other"


_WANT = {"int64": "int", "Int64": "int", "float64": "float", "str": "str",
         "timestamp_utc": "timestamp"}


def _as_large_string(arr):
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    arr = arr.cast(pa.large_string())
    # empty and missing are the same value (see the module docstring)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.large_string()), arr)


def _canonical(arr, kind: str, fmt: Optional[str] = None):
    """The canonical numpy form of one column (see the module docstring), or raises. ``fmt``:
    the column is text holding timestamps in this strptime format (compared as timestamps,
    whether the reader parsed them or not)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    got = kind_of_type(arr.type)
    if fmt is not None and kind == "str":
        if got == "str":
            arr = pc.strptime(_as_large_string(arr), format=fmt, unit="ns")
        kind = "timestamp_utc"
        got = kind_of_type(arr.type)
    if kind in _NUMERIC:
        if got == "str":
            arr = _as_large_string(arr).cast(pa.float64())
        elif got == "null":
            arr = pa.nulls(len(arr), pa.float64())
        elif got in ("int", "float", "bool"):
            arr = arr.cast(pa.float64(), safe=False)
        else:
            raise TypeError(f"read as {arr.type}")
        # nulls filled in Arrow, then a zero-copy view: to_numpy(zero_copy_only=False) goes
        # through pyarrow's pandas shim (a pandas import in every reader's process)
        x = pc.fill_null(arr, np.nan).to_numpy(zero_copy_only=True).astype(np.float64)
        x[np.isnan(x)] = _NAN
        return ("f8", x)
    if kind == "timestamp_utc":
        if got == "str":
            s = _as_large_string(arr)
            try:
                arr = s.cast(pa.timestamp("ns", tz="UTC"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                arr = s.cast(pa.timestamp("ns"))
        elif got == "null":
            arr = pa.nulls(len(arr), pa.timestamp("ns"))
        elif got != "timestamp":
            raise TypeError(f"read as {arr.type}")
        if pa.types.is_date(arr.type):
            arr = arr.cast(pa.timestamp("ns"))
        tz = getattr(arr.type, "tz", None)
        arr = arr.cast(pa.timestamp("ns", tz=tz))  # the stored value is UTC when tz is set
        x = pc.fill_null(arr.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=True)
        return ("i8", np.array(x, dtype=np.int64))
    if kind == "str":
        if got not in ("str", "null"):
            raise TypeError(f"read as {arr.type}")
        s = _as_large_string(arr) if got == "str" else pa.nulls(len(arr), pa.large_string())
        valid = s.is_valid().cast(pa.uint8()).to_numpy(zero_copy_only=True).copy()
        s = pc.fill_null(s, "")
        if isinstance(s, pa.ChunkedArray):
            s = s.combine_chunks()
        offs = np.frombuffer(s.buffers()[1], dtype=np.int64)[s.offset:s.offset + len(s) + 1]
        data = s.buffers()[2]
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        return ("str", (valid, offs, data))
    raise ValueError(f"unknown kind {kind!r}")


def _chunk_digests(canon) -> list[str]:
    tag, v = canon
    out = []
    if tag == "str":
        valid, offs, data = v
        n = len(valid)
        for i in range(0, n, DIGEST_ROWS):
            j = min(n, i + DIGEST_ROWS)
            lo, hi = int(offs[i]), int(offs[j])
            out.append(_hash(valid[i:j], np.diff(offs[i:j + 1]), data[lo:hi]))
        return out
    for i in range(0, len(v), DIGEST_ROWS):
        out.append(_hash(v[i:i + DIGEST_ROWS]))
    return out


def _value(canon, row: int):
    """One canonical value as JSON: floats as repr (NaN as None), strings as text."""
    tag, v = canon
    if tag == "f8":
        x = float(v[row])
        return None if x != x else repr(x)
    if tag == "i8":
        x = int(v[row])
        return None if x == _NAT else x
    valid, offs, data = v
    if not valid[row]:
        return None
    return bytes(data[int(offs[row]):int(offs[row + 1])]).decode("utf-8", "replace")


def _slice(canon, lo: int, hi: int):
    """Rows [lo, hi) of a canonical column, itself a canonical column (rows from 0)."""
    tag, v = canon
    if tag == "str":
        valid, offs, data = v
        return ("str", (valid[lo:hi], offs[lo:hi + 1], data))  # offsets stay absolute
    return (tag, v[lo:hi])


def _len(canon) -> int:
    tag, v = canon
    return len(v[0]) if tag == "str" else len(v)


#: Columns whose first differing rows are looked up in the file (each costs a parse up to its
#: first differing block of rows, and only when it differs).
LOCATE_COLUMNS = 8


def digest_columns(names: list, arrays: list, schema: tuple, sample_rows: list[int],
                   formats: Optional[dict] = None, reference: Optional[dict] = None,
                   path: Optional[str] = None) -> dict:
    """What the parent compares: row count, names, per column the type read, its kind, the
    chunk digests of its canonical form and the canonical values of ``sample_rows``.
    ``formats``: text columns holding timestamps, by name (see :func:`_canonical`). With the
    ``reference`` (the digests of :func:`reference`) and the file's ``path``, a column whose
    digests differ also gets ``diffs``: its first differing rows, with both values (the
    reference's rows of that block parsed again)."""
    kinds = dict(schema)
    formats = formats or {}
    n = len(arrays[0]) if arrays else 0
    cols: dict[str, Any] = {}
    wanted: dict[str, tuple] = {}
    for name, arr in zip(names, arrays):
        info: dict[str, Any] = {"type": str(arr.type), "read_as": kind_of_type(arr.type)}
        kind = kinds.get(name)
        if kind is None:
            info["error"] = "not in the shape's schema"
        else:
            try:
                canon = _canonical(arr, kind, formats.get(name))
            except Exception as e:  # the column cannot be compared: said in the report
                info["error"] = f"{type(e).__name__}: {e}"[:300]
            else:
                info["digests"] = _chunk_digests(canon)
                info["samples"] = {str(r): _value(canon, r) for r in sample_rows if r < n}
                ref = (reference or {}).get("columns", {}).get(name)
                if ref is not None and ref["digests"] != info["digests"] and \
                        len(wanted) < LOCATE_COLUMNS:
                    k = next((i for i, (a, b) in enumerate(zip(info["digests"], ref["digests"]))
                              if a != b), min(len(info["digests"]), len(ref["digests"])))
                    wanted[name] = (k, _slice(canon, k * DIGEST_ROWS, (k + 1) * DIGEST_ROWS))
                del canon
        cols[name] = info
    if wanted and path:
        for name, diffs in _locate(path, schema, formats, wanted).items():
            cols[name]["diffs"] = diffs
    return {"rows": n, "names": list(names), "columns": cols}


def _locate(path: str, schema: tuple, formats: dict, wanted: dict, limit: int = 3) -> dict:
    """The first ``limit`` differing rows of each wanted column: ``wanted[name] = (block k, the
    reader's canonical rows of block k)``, compared with the file's rows of block k as
    :func:`reference` converts them."""
    import itertools

    names = [c for c, _ in schema]
    kinds = dict(schema)
    out: dict[str, list] = {}
    ts_memo: dict = {}
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f, strict=True)
        next(rd)
        at = 0  # blocks consumed
        for k in sorted({k for k, _ in wanted.values()}):
            for _ in range(k - at):  # skip whole blocks (parsed, not converted)
                for _rec in itertools.islice(rd, DIGEST_ROWS):
                    pass
            block = list(itertools.islice(rd, DIGEST_ROWS))
            at = k + 1
            fields = list(zip(*block)) if block else [()] * len(names)
            for name, (kk, got) in wanted.items():
                if kk != k:
                    continue
                j = names.index(name)
                ref = _ref_column(list(fields[j]), kinds[name], ts_memo, formats.get(name))
                diffs = []
                for r in range(max(_len(got), len(block))):
                    a = _value(got, r) if r < _len(got) else "<no row>"
                    b = _value(ref, r) if r < len(block) else "<no row>"
                    if a != b:
                        diffs.append(f"row {k * DIGEST_ROWS + r:,}: got {a!r}, want {b!r}")
                        if len(diffs) == limit:
                            break
                out[name] = diffs
    return out


# --------------------------------------------------------------------------- reference

def _ref_column(values: list, kind: str, ts_memo: dict, fmt: Optional[str] = None):
    import pyarrow as pa

    if fmt is not None:  # text timestamps: datetime.strptime, as UTC wall time
        out = np.empty(len(values), dtype=np.int64)
        for i, s in enumerate(values):
            v = ts_memo.get((fmt, s))
            if v is None:
                d = _dt.datetime.strptime(s, fmt).replace(tzinfo=_dt.timezone.utc) if s else None
                v = ts_memo[(fmt, s)] = (_NAT if d is None else
                                         (d - _EPOCH) // _dt.timedelta(microseconds=1) * 1000)
            out[i] = v
        return ("i8", out)
    if kind in _NUMERIC:
        conv = int if kind != "float64" else float
        x = np.array([conv(s) if s != "" else np.nan for s in values], dtype=np.float64)
        x[np.isnan(x)] = _NAN
        return ("f8", x)
    if kind == "timestamp_utc":
        out = np.empty(len(values), dtype=np.int64)
        for i, s in enumerate(values):
            v = ts_memo.get(s)
            if v is None:
                v = ts_memo[s] = _iso_ns(s)
            out[i] = v
        return ("i8", out)
    arr = pa.array([s if s != "" else None for s in values], pa.large_string())
    return _canonical(arr, "str")


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _iso_ns(s: str) -> int:
    if s == "":
        return _NAT
    t = s[:-1] + "+00:00" if s.endswith("Z") else s  # Python 3.10's fromisoformat has no "Z"
    d = _dt.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return (d - _EPOCH) // _dt.timedelta(microseconds=1) * 1000


def reference(path: str, schema: tuple, sample_rows: list[int], cache: Optional[str] = None,
              formats: Optional[dict] = None) -> dict:
    """The digests of the file as Python's ``csv`` module and ``int``/``float``/
    ``fromisoformat`` read it (in the form of :func:`digest_columns`), cached in ``cache``
    (keyed by file size and mtime, the schema and the format of this check). The sampled
    values are taken for ``sample_rows`` whatever the cache holds."""
    st = os.stat(path)
    key = {"ref_format": REF_FORMAT, "digest_rows": DIGEST_ROWS, "nbytes": st.st_size,
           "mtime_ns": st.st_mtime_ns, "schema": [list(c) for c in schema],
           "samples": sorted(sample_rows), "formats": formats or {}}
    if cache and os.path.exists(cache):
        try:
            with open(cache, encoding="utf-8") as f:
                got = json.load(f)
            if got.get("key") == key:
                return got["ref"]
        except (OSError, ValueError):
            pass
    names = [c for c, _ in schema]
    kinds = [k for _, k in schema]
    fmts = [(formats or {}).get(c) for c in names]
    digests: list[list[str]] = [[] for _ in names]
    samples: list[dict] = [{} for _ in names]
    want = sorted(set(sample_rows))
    ts_memo: dict = {}
    rows = 0
    with open(path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f, strict=True)
        header = next(rd)
        if header != names:
            raise ValueError(f"{path}: header {header[:5]}... is not the shape's")
        while True:
            block = []
            for rec in rd:
                if len(rec) != len(names):
                    raise ValueError(f"{path}: row {rows + len(block)} has {len(rec)} fields")
                block.append(rec)
                if len(block) == DIGEST_ROWS:
                    break
            if not block:
                break
            for j, values in enumerate(zip(*block)):
                canon = _ref_column(values, kinds[j], ts_memo, fmts[j])
                digests[j].extend(_chunk_digests(canon))
                for r in want:
                    if rows <= r < rows + len(block):
                        samples[j][str(r)] = _value(canon, r - rows)
            rows += len(block)
            if len(block) < DIGEST_ROWS:
                break
    ref = {"rows": rows, "names": names,
           "columns": {n: {"type": k, "read_as": _WANT[k], "digests": d, "samples": s}
                       for n, k, d, s in zip(names, kinds, digests, samples)}}
    if cache:
        tmp = cache + ".part"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"key": key, "ref": ref}, f)
        os.replace(tmp, cache)
    return ref


# --------------------------------------------------------------------------- comparison

def compare(got: dict, ref: dict, schema: tuple) -> tuple[bool, str, list[str], str]:
    """(values ok, check text, detail lines for a mismatch, types note).

    Values ok means: the same row count, the same column names in the same order, and every
    column's canonical values equal to the reference's. The types note lists the columns a
    reader returned as another kind than the schema's (e.g. timestamps left as text, ints with
    missing values as float64): not a mismatch, but less (or other) work done."""
    problems: list[str] = []
    details: list[str] = []
    if got.get("rows") != ref["rows"]:
        problems.append(f"rows {got.get('rows'):,} != {ref['rows']:,}")
    if got.get("names") != ref["names"]:
        problems.append("columns differ")
        details.append(f"columns {got.get('names')} != {ref['names']}")
    kinds = dict(schema)
    diff_cols = []
    other = {}
    for name in ref["names"]:
        r = ref["columns"][name]
        g = got.get("columns", {}).get(name)
        if g is None:
            continue
        if g.get("read_as") != _WANT[kinds[name]]:
            other.setdefault(f"{_WANT[kinds[name]]} as {g.get('read_as')}", []).append(name)
        if "error" in g:
            diff_cols.append(name)
            details.append(f"{name}: not comparable ({g['type']}): {g['error']}")
            continue
        gd, rd = g.get("digests", []), r["digests"]
        if gd != rd:
            diff_cols.append(name)
            bad = [i for i, (a, b) in enumerate(zip(gd, rd)) if a != b]
            where = (f"rows {bad[0] * DIGEST_ROWS:,}-{(bad[0] + 1) * DIGEST_ROWS - 1:,}"
                     f" and {len(bad) - 1} more blocks of {DIGEST_ROWS:,}" if len(bad) > 1 else
                     f"rows {bad[0] * DIGEST_ROWS:,}-{(bad[0] + 1) * DIGEST_ROWS - 1:,}"
                     if bad else "row count")
            ex = g.get("diffs") or [f"row {int(k):,}: got {g['samples'].get(k)!r}, want {v!r}"
                                    for k, v in r["samples"].items()
                                    if k in g.get("samples", {}) and g["samples"][k] != v][:3]
            details.append(f"{name} ({g['type']}): values differ in {where}"
                           + ("; first: " + "; ".join(ex) if ex else
                              "; rows not located (only the first "
                              f"{LOCATE_COLUMNS} differing columns are)"))
    if diff_cols:
        problems.append("values differ: " + ", ".join(diff_cols[:6])
                        + (f" (+{len(diff_cols) - 6})" if len(diff_cols) > 6 else ""))
    note = "; ".join(f"{k}: " + (", ".join(v) if len(v) <= 3 else f"{len(v)} columns")
                     for k, v in other.items())
    if problems:
        return False, "MISMATCH: " + "; ".join(problems), details, note
    return True, f"ok ({ref['rows']:,} rows, {len(ref['names'])} columns)", details, note
