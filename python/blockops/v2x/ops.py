"""Connected-vehicle (V2X) operators: clean, convert, filter, mark attackers, inject attacks.

Every operator takes a pandas DataFrame and returns a new one: the index is kept, the input is
never modified, 0-row frames work, and the output columns and dtypes depend only on the input
columns and dtypes (so ``meta`` is the operator applied to an empty frame, see :func:`meta`).
That makes each one a drop-in function for ``dask.dataframe.DataFrame.map_partitions``.

Randomness never comes from a stateful generator. Each draw is Philox4x32-10 of
``(seed, stream, key, counter)`` (``blockops._core.rng_uniform``): the stream names the attack,
the key is a vehicle ID (per-ID attacks) or a stable row key (per-row attacks: the reader's
global row number, which is the index of every block of :class:`blockops.io.CsvBlockReader`
and of :func:`blockops.dask.read_csv`). So the output is bitwise identical however the data are
partitioned, ordered or threaded, and no per-ID lookup table is ever built.
"""
from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from .. import _config, _core
from .. import geo as _geo
from .._arrow_strings import string_buffers

DEFAULT_COLUMNS: list[str] = [
    "metadata_generatedAt", "metadata_recordType", "metadata_serialId_streamId",
    "metadata_serialId_bundleSize", "metadata_serialId_bundleId", "metadata_serialId_recordId",
    "metadata_serialId_serialNumber", "metadata_receivedAt", "coreData_id", "coreData_secMark",
    "coreData_position_lat", "coreData_position_long", "coreData_accuracy_semiMajor",
    "coreData_accuracy_semiMinor", "coreData_elevation", "coreData_accelset_accelYaw",
    "coreData_speed", "coreData_heading", "coreData_position",
]

#: The Wyoming export's timestamp format (``07/31/2019 12:41:59 PM``).
BSM_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
TIMESTAMP_PARTS = ("month", "day", "year", "hour", "minute", "second", "pm")
_PART_DTYPES = {"month": np.int8, "day": np.int8, "year": np.int16, "hour": np.int8,
                "minute": np.int8, "second": np.int8, "pm": np.int8}
POSITION, ID, ELEVATION = "coreData_position", "coreData_id", "coreData_elevation"

#: Philox stream of each random decision. Changing a number changes every result drawn from
#: it, so these are part of the output's definition: never renumber.
STREAMS = {
    "attackers_hash": 1,
    "positional_offset_rand": 2,
    "positional_offset_const_per_id_with_random_direction": 3,
    "swap_pool": 4,
    "positional_swap_rand": 5,
    "positional_override_rand": 6,
    "train_test_split": 7,
}
_DIRECTION, _DISTANCE = 0, 1  # Philox counters: the two draws made per key

#: Default donor-pool size of :func:`positional_swap_rand` (40 bytes per donor: 4 MB).
DEFAULT_POOL_SIZE = 100_000

_STATUS_NULL, _STATUS_BAD = 1, 2


# ----------------------------------------------------------------------------- helpers

def _dask_meta_aware(func):
    """Let ``ddf.map_partitions(op)`` work without ``meta=``: Dask then infers the meta by
    running ``op`` on two rows of made-up values (``meta_nonempty``: ``'a'`` for strings,
    which is no POINT, 1970-01-01 for times), which a parsing operator rejects. Such a frame
    is recognised (two rows equal to ``meta_nonempty`` of its own empty slice, checked only
    when Dask is imported) and answered with the operator's real meta: its output on zero
    rows, as :func:`meta` computes it. Any other frame is the operator's as usual."""
    @functools.wraps(func)
    def op(df, *args, **kwargs):
        if len(df) == 2 and "dask.dataframe" in sys.modules and _is_dask_fake(df):
            return func(df.iloc[:0], *args, **kwargs)
        return func(df, *args, **kwargs)
    return op


def _is_dask_fake(df) -> bool:
    try:
        from dask.dataframe.utils import meta_nonempty
        return bool(df.equals(meta_nonempty(df.iloc[:0])) and
                    df.index.equals(meta_nonempty(df.iloc[:0]).index))
    except Exception:  # another Dask, another frame type: not Dask's meta frame
        return False


def _threads(n_threads) -> int:
    return _config.resolve_threads(n_threads)


def _require(df: pd.DataFrame, cols: Iterable[str], func: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{func}: missing column(s) {missing}; the frame has {list(df.columns)}")


def _row_label(index: pd.Index, pos: int) -> str:
    if len(index) <= pos:
        return f"position {pos}"
    label = index[pos]
    if isinstance(label, np.generic):  # "row 9999", not "row np.int64(9999)"
        label = label.item()
    return f"row {label!r}"


def _raise_bad(func: str, column: str, index: pd.Index, values, status: np.ndarray,
               what: str) -> None:
    # statuses are 0/1/2: a max() is one pass without a temporary (status == 2 and flatnonzero
    # cost ~0.3 ms a million rows, ~2 % of a POINT conversion)
    if not len(status) or status.max() < _STATUS_BAD:
        return
    bad = np.flatnonzero(status == _STATUS_BAD)
    if bad.size:
        p = int(bad[0])
        v = values.iloc[p] if isinstance(values, pd.Series) else values[p]
        raise ValueError(f"{func}: {column} at {_row_label(index, p)}: {v!r} is not {what} "
                         f"({bad.size} invalid value(s) in this frame)")


def _as_str_input(values) -> Any:
    """Numbers that pandas inferred from hex-looking text back to text (see hex_to_int)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, (pd.api.extensions.ExtensionArray, np.ndarray)) and \
            values.dtype.kind in "iuf":
        arr = np.asarray(values, dtype=object) if values.dtype.kind != "f" else None
        if arr is None:  # floats: NaN stays missing, 1234.0 -> "1234"
            f = np.asarray(values, dtype=np.float64)
            out = np.empty(len(f), dtype=object)
            ok = np.isfinite(f)
            out[~ok] = None
            out[ok] = [repr(float(x)) for x in f[ok]]
            return out
        return np.array([None if v is pd.NA else str(v) for v in arr], dtype=object)
    if isinstance(values, pd.api.extensions.ExtensionArray) and \
            getattr(values.dtype, "kind", "O") in "iu":
        return np.array([None if v is pd.NA else str(v) for v in values], dtype=object)
    return values


def _strings(func: str, column: str, values):
    try:
        return string_buffers(values)
    except TypeError as e:
        raise TypeError(f"{func}: {column}: {e}") from None


# ----------------------------------------------------------------------------- conversions

def hex_to_int_status(values, *, n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The kernel of :func:`hex_to_int` without its error handling: ``(int64 values, uint8
    status)``, status 0 for a converted value, else why not (missing or not a hex ID; the value
    is then 0). For callers that decide which rows' errors count (the pipeline converts a
    whole block and checks only the rows it keeps)."""
    name = values.name if isinstance(values, pd.Series) else None
    offs, data, valid, bit0 = _strings("hex_to_int", str(name or "values"),
                                       _as_str_input(values))
    return _core.v2x_parse_hex(offs, data, valid, bit0, n_threads=_threads(n_threads))


def hex_to_int(values, *, errors: str = "raise", n_threads: int | None = None):
    """Hexadecimal vehicle IDs (``"CB950124"``) to int64, in C.

    Parameters
    ----------
    values : Series, array or list
        Hex strings; surrounding blanks and a trailing ``.0`` are accepted, as the original
        pipeline strips it. Numbers are taken as hex *digits*, as the original does
        (``int(str(v).removesuffix(".0"), 16)``): pandas reads an all-digit ID such as
        ``00012345`` as the number 12345, whose text is still the hex ID.
    errors : {"raise", "coerce"}
        An invalid value raises ``ValueError`` naming the row (index label) and the value;
        ``"coerce"`` gives ``<NA>`` instead (result dtype ``Int64``). Missing values are
        ``<NA>`` with "coerce" and an error with "raise".

    Returns
    -------
    Series (index kept) when given a Series, else an ndarray; ``int64`` (``Int64`` with
    ``errors="coerce"``).
    """
    if errors not in ("raise", "coerce"):
        raise ValueError(f"hex_to_int: errors must be 'raise' or 'coerce', not {errors!r}")
    index = values.index if isinstance(values, pd.Series) else None
    name = values.name if isinstance(values, pd.Series) else None
    if isinstance(values, (list, tuple)):
        values = np.array(values, dtype=object)
    out, status = hex_to_int_status(values, n_threads=n_threads)
    if errors == "raise":
        if status.any():
            p = int(np.flatnonzero(status)[0])
            shown = values.iloc[p] if isinstance(values, pd.Series) else values[p]
            what = "missing" if status[p] == _STATUS_NULL else "not a hex ID"
            where = _row_label(index, p) if index is not None else f"position {p}"
            raise ValueError(f"hex_to_int: {name or 'value'} at {where}: {shown!r} is {what} "
                             f"({int(np.count_nonzero(status))} such value(s))")
        res: Any = out
    else:
        res = pd.array(out, dtype="Int64")
        if status.any():
            res[status != 0] = pd.NA
    if index is not None:
        return pd.Series(res, index=index, name=name)
    return res


def _parse_times(func: str, s: pd.Series, n_threads) -> np.ndarray:
    """A timestamp column to int64 ns (NaT = INT64_MIN); strings in the BSM format or ISO."""
    if isinstance(s.dtype, pd.DatetimeTZDtype) or s.dtype.kind == "M":
        v = s.to_numpy(dtype="datetime64[ns]") if s.dtype.kind == "M" else \
            s.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
        return v.view(np.int64)
    offs, data, valid, bit0 = _strings(func, str(s.name), s)
    nt = _threads(n_threads)
    ns, status = _core.v2x_parse_datetime(offs, data, valid, bit0, BSM_TIME_FORMAT, n_threads=nt)
    retry = np.flatnonzero(status == _STATUS_BAD)
    if retry.size:  # ISO-8601 rows (later exports); only the rows the BSM format rejected
        sub = s.iloc[retry]
        o2, d2, v2, b2 = _strings(func, str(s.name), sub)
        ns2, st2 = _core.v2x_parse_datetime(o2, d2, v2, b2, None, n_threads=nt)
        ns = ns.copy()
        status = status.copy()
        ns[retry] = ns2
        status[retry] = st2
    _raise_bad(func, str(s.name), s.index, s, status,
               f"a timestamp ({BSM_TIME_FORMAT!r} or ISO 8601)")
    return ns


@_dask_meta_aware
def timestamp_parts(df: pd.DataFrame, *, column: str = "metadata_generatedAt", drop: bool = False,
                    n_threads: int | None = None) -> pd.DataFrame:
    """Add ``month, day, year, hour, minute, second, pm`` from a timestamp column.

    ``column`` holds ``07/31/2019 12:41:59 PM`` strings, ISO-8601 strings or datetimes.
    ``hour`` is 0-23 and ``pm`` is 1 when hour >= 12 (the original's rule). All parts are int8
    except ``year`` (int16). A missing timestamp raises (clean with ``dropna=True`` first) and
    an unparseable one raises naming the row and the value. ``drop=True`` removes ``column``.
    """
    _require(df, [column], "timestamp_parts")
    s = df[column]
    if isinstance(s.dtype, pd.DatetimeTZDtype) or s.dtype.kind == "M":
        ns = _parse_times("timestamp_parts", s, n_threads)
        parts = _core.v2x_timestamp_parts(ns, n_threads=_threads(n_threads))
    else:
        parts = _string_parts(s, n_threads)
    if parts["status"].any():
        p = int(np.flatnonzero(parts["status"])[0])
        raise ValueError(f"timestamp_parts: {column} at {_row_label(df.index, p)} is missing "
                         f"({df[column].iloc[p]!r}); drop missing rows first")
    out = df.drop(columns=[column]) if drop else df.copy(deep=False)
    for k in TIMESTAMP_PARTS:
        out[k] = parts[k]
    return out


def _string_parts(s: pd.Series, n_threads) -> dict:
    """Timestamp strings straight to their parts in C (no datetime64 column in between): the
    BSM format first, ISO 8601 for the rows it rejects, as :func:`_parse_times` does; an
    unparseable value raises naming the row; missing ones have status 1."""
    func, name, nt = "timestamp_parts", str(s.name), _threads(n_threads)
    offs, data, valid, bit0 = _strings(func, name, s)
    parts = _core.v2x_datetime_parts(offs, data, valid, bit0, BSM_TIME_FORMAT, n_threads=nt)
    retry = np.flatnonzero(parts["status"] == _STATUS_BAD)
    if retry.size:  # ISO-8601 rows (later exports)
        o2, d2, v2, b2 = _strings(func, name, s.iloc[retry])
        iso = _core.v2x_datetime_parts(o2, d2, v2, b2, None, n_threads=nt)
        for k, v in iso.items():
            parts[k][retry] = v
    _raise_bad(func, name, s.index, s, parts["status"],
               f"a timestamp ({BSM_TIME_FORMAT!r} or ISO 8601)")
    return parts


def parse_point(values, *, n_threads: int | None = None, errors: str = "raise"):
    """``POINT (lon lat)`` strings -> ``(lon, lat)`` float64 arrays, in C.

    Missing values give NaN; a malformed value raises naming the row and the value
    (``errors="coerce"``: NaN).
    """
    if errors not in ("raise", "coerce"):
        raise ValueError(f"parse_point: errors must be 'raise' or 'coerce', not {errors!r}")
    name = values.name if isinstance(values, pd.Series) else POSITION
    offs, data, valid, bit0 = _strings("parse_point", str(name), values)
    lon, lat, status = _core.v2x_parse_wkt(offs, data, valid, bit0, n_threads=_threads(n_threads),
                                           simd=_config.simd())
    if errors == "raise":
        index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(lon))
        _raise_bad("parse_point", str(name), index, values, status, "a 'POINT (lon lat)'")
    return lon, lat


# ----------------------------------------------------------------------------- clean

@_dask_meta_aware
def clean(df: pd.DataFrame, *, columns: Iterable[str] | None = None, dropna: bool = True,
          n_threads: int | None = None) -> pd.DataFrame:
    """Keep the pipeline's columns, drop rows with missing values, parse the position.

    ``coreData_position`` (``POINT (lon lat)``) becomes ``x_pos`` (longitude) and ``y_pos``
    (latitude), float64, appended last; the POINT column is dropped. When the reader already
    converted it (``dtypes={"coreData_position": "wkt_point:x_pos,y_pos"}``, or its default
    ``coreData_position_lon``/``_lat`` names) those columns are used instead and nothing is
    parsed. Rows are dropped before parsing (as the original does), so a malformed POINT in a
    row with a missing value elsewhere is dropped rather than reported.

    Parameters
    ----------
    columns : list of str, default :data:`DEFAULT_COLUMNS`
        Columns to keep, in order (``coreData_position`` among them to get x/y).
    dropna : bool, default True
        Drop rows with a missing value in any kept column.
    """
    cols = list(DEFAULT_COLUMNS if columns is None else columns)
    have = set(df.columns)
    conv = None  # already-converted lon/lat column names
    if POSITION in cols and POSITION not in have:
        for lon_c, lat_c in (("x_pos", "y_pos"), (POSITION + "_lon", POSITION + "_lat")):
            if lon_c in have and lat_c in have:
                conv = (lon_c, lat_c)
                break
    keep = [c for c in cols if not (c == POSITION and conv is not None)]
    _require(df, keep, "clean")
    if conv is not None:
        keep = keep + [c for c in conv if c not in keep]
    # df[keep] builds a new frame and column Index (~0.7 ms on pandas 3, 1 M rows) even when
    # it selects every column in order; nothing below modifies `out` in place
    out = df if list(df.columns) == keep else df[keep]
    if dropna and len(out):
        mask = out.notna().all(axis=1).to_numpy()
        if not mask.all():
            out = out[mask]
    if conv is not None:
        out = out.rename(columns={conv[0]: "x_pos", conv[1]: "y_pos"})
        cols_now = [c for c in out.columns if c not in ("x_pos", "y_pos")] + ["x_pos", "y_pos"]
        out = out[cols_now]
        return out.astype({"x_pos": np.float64, "y_pos": np.float64})
    if POSITION not in keep:
        return out.copy(deep=False)
    lon, lat = parse_point(out[POSITION], n_threads=n_threads)
    # lon/lat are new arrays nobody else holds: no copy. Under pandas' copy-on-write,
    # __setitem__ copies a bare ndarray (2 x 8 MB a million rows, ~3 ms of a 34 ms clean, most
    # of it page faults on the fresh copy), and drop + two __setitem__ rebuild the str column
    # Index three times (~1 ms more than one constructor call, 1 and 19 columns alike).
    if out.columns.is_unique:
        data = {c: out[c] for c in out.columns if c != POSITION}
        data["x_pos"] = lon  # replaces an existing x_pos in place, as __setitem__ did
        data["y_pos"] = lat
        res = pd.DataFrame(data, index=out.index, copy=False)
        res.attrs = dict(out.attrs)
        return res
    out = out.drop(columns=[POSITION])
    out["x_pos"] = pd.Series(lon, index=out.index, copy=False)
    out["y_pos"] = pd.Series(lat, index=out.index, copy=False)
    return out


@_dask_meta_aware
def project_xy(df: pd.DataFrame, *, origin_lat: float, origin_lon: float,
               earth_radius_m: float = _geo.EARTH_RADIUS_M,
               n_threads: int | None = None) -> pd.DataFrame:
    """Longitude/latitude ``x_pos``/``y_pos`` to signed metres about an origin.

    Uses :func:`blockops.geo.to_local_xy` (x = R * dlon * cos(origin_lat), y = R * dlat, dlon
    wrapped, R = ``earth_radius_m``, default 6371008.8 m; the original's metric pipeline used
    6371000). The original converted degrees as if they were radians and dropped the sign;
    this one is signed metres, east and north positive.
    """
    _require(df, ["x_pos", "y_pos"], "project_xy")
    out = df.copy(deep=False)
    x, y = _geo.to_local_xy(lat=df["y_pos"].to_numpy(np.float64),
                            lon=df["x_pos"].to_numpy(np.float64),
                            origin_lat=origin_lat, origin_lon=origin_lon,
                            earth_radius_m=earth_radius_m, n_threads=n_threads)
    out["x_pos"] = x
    out["y_pos"] = y
    return out


# ----------------------------------------------------------------------------- filters

@_dask_meta_aware
def filter_radius(df: pd.DataFrame, *, center_lat: float, center_lon: float, radius_m: float,
                  earth_radius_m: float = _geo.EARTH_RADIUS_M,
                  n_threads: int | None = None) -> pd.DataFrame:
    """Rows whose ``(y_pos, x_pos)`` (latitude, longitude) is within ``radius_m`` of the centre.

    Great-circle distance with :func:`blockops.geo.within_radius` (exact bounding-box prefilter,
    no per-point asin) on a sphere of radius ``earth_radius_m`` (default 6371008.8 m, the mean
    radius; ``6_371_000`` reproduces the original pipeline's selection, which differs for rows
    within 1.4 ppm of the radius from the circle). NaN positions are dropped.
    """
    _require(df, ["x_pos", "y_pos"], "filter_radius")
    m = _geo.within_radius(lat=df["y_pos"].to_numpy(np.float64),
                           lon=df["x_pos"].to_numpy(np.float64), center_lat=center_lat,
                           center_lon=center_lon, radius_m=radius_m,
                           earth_radius_m=earth_radius_m, n_threads=n_threads)
    return df[m]


@_dask_meta_aware
def filter_xy_range(df: pd.DataFrame, *, max_dist: float) -> pd.DataFrame:
    """Rows with ``sqrt(x_pos**2 + y_pos**2) <= max_dist`` (projected metres, see project_xy)."""
    _require(df, ["x_pos", "y_pos"], "filter_xy_range")
    if not (max_dist >= 0):
        raise ValueError(f"filter_xy_range: max_dist must be >= 0, got {max_dist!r}")
    x = df["x_pos"].to_numpy(np.float64)
    y = df["y_pos"].to_numpy(np.float64)
    return df[np.hypot(x, y) <= max_dist]


def _ns(func: str, name: str, v) -> int:
    try:
        t = pd.Timestamp(v)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{func}: {name}={v!r} is not a timestamp: {e}") from None
    if t.tzinfo is not None:
        t = t.tz_convert(None)
    return int(t.as_unit("ns").value)


@_dask_meta_aware
def filter_date_range(df: pd.DataFrame, *, start=None, end=None,
                      column: str = "metadata_generatedAt",
                      n_threads: int | None = None) -> pd.DataFrame:
    """Rows with ``start <= column < end`` (half-open; either bound may be None).

    ``column`` is parsed like :func:`timestamp_parts` (BSM format, ISO 8601 or datetimes);
    bounds are anything ``pandas.Timestamp`` accepts (``"2019-07-31"``). Missing timestamps are
    dropped.
    """
    _require(df, [column], "filter_date_range")
    ns = _parse_times("filter_date_range", df[column], n_threads)
    m = ns != np.iinfo(np.int64).min
    if start is not None:
        m &= ns >= _ns("filter_date_range", "start", start)
    if end is not None:
        m &= ns < _ns("filter_date_range", "end", end)
    return df[m]


# ----------------------------------------------------------------------------- attackers

def id_keys(values, *, n_threads: int | None = None) -> np.ndarray:
    """Vehicle IDs as uint64 keys: integer IDs as they are, hex strings converted."""
    if isinstance(values, pd.Series):
        values = values.array if not values.dtype.kind in "iu" else values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return values.astype(np.int64, copy=False).view(np.uint64)
    if isinstance(values, pd.api.extensions.ExtensionArray) and \
            getattr(values.dtype, "kind", "O") in "iu":
        if values.isna().any():
            raise ValueError("vehicle IDs contain missing values")
        return np.asarray(values, dtype=np.int64).view(np.uint64)
    return np.asarray(hex_to_int(values, n_threads=n_threads), dtype=np.int64).view(np.uint64)


def select_attackers(ids, *, ratio: float = 0.3, seed: int = 42, method: str = "exact"):
    """Choose attacker vehicle IDs.

    ``method="exact"`` reproduces the original: the sorted unique IDs are split with
    ``sklearn.model_selection.train_test_split(ids, test_size=ratio, random_state=seed)`` and the
    test part (``ceil(ratio * n)`` IDs) are the attackers. It is computed here without
    importing scikit-learn (same permutation: ``numpy.random.RandomState(seed)``), and a test
    checks it against scikit-learn. ``ratio <= 0`` gives none and ``ratio >= 1`` all (where
    scikit-learn would refuse). IDs sort as given: hex strings sort as text, as in the original,
    which for the export's fixed-width upper-case IDs is the numeric order.

    ``method="hash"``: an ID is an attacker when a keyed hash of (seed, id) falls below
    ``ratio``; no global pass is needed, and the share is ``ratio`` on average, not exactly.

    Returns the attacker IDs, sorted, with the dtype of ``ids``.
    """
    ratio = float(ratio)
    if not math.isfinite(ratio):
        raise ValueError(f"select_attackers: ratio must be finite, got {ratio!r}")
    uniq = pd.unique(pd.Series(ids).dropna()) if not isinstance(ids, np.ndarray) else \
        pd.unique(ids)
    uniq = np.sort(np.asarray(uniq))
    if method == "exact":
        n = len(uniq)
        if ratio <= 0 or n == 0:
            return uniq[:0]
        if ratio >= 1:
            return uniq
        n_test = math.ceil(ratio * n)
        perm = np.random.RandomState(seed).permutation(n)
        return np.sort(uniq[perm[:n_test]])
    if method == "hash":
        if ratio <= 0:
            return uniq[:0]
        u = _core.rng_uniform(id_keys(uniq), seed=seed, stream=STREAMS["attackers_hash"])
        return uniq[u < ratio]
    raise ValueError(f"select_attackers: method must be 'exact' or 'hash', not {method!r}")


def add_attackers(df: pd.DataFrame, attackers=None, *, ratio: float = 0.3, seed: int = 42,
                  method: str = "exact", id_column: str = ID,
                  n_threads: int | None = None) -> pd.DataFrame:
    """Add ``isAttacker`` (int8, 1 for attacker vehicles).

    With ``attackers`` (IDs from :func:`select_attackers`, e.g. over the whole data set) rows
    are marked by membership. Without it, ``method="exact"`` selects from this frame's IDs (on
    a partition of a larger data set that is *not* the global choice: use
    :func:`blockops.dask.add_attackers`, which collects the IDs first) and ``method="hash"``
    decides per row from (seed, id) alone, the same in every partition.
    """
    _require(df, [id_column], "add_attackers")
    out = df.copy(deep=False)
    ids = df[id_column]
    if attackers is None and method == "hash":
        if ratio <= 0 or len(df) == 0:
            flag = np.zeros(len(df), dtype=np.int8)
        else:
            u = _core.rng_uniform(id_keys(ids, n_threads=n_threads), seed=seed,
                                  stream=STREAMS["attackers_hash"], n_threads=_threads(n_threads))
            flag = (u < ratio).astype(np.int8)
    else:
        if attackers is None:
            attackers = select_attackers(ids.to_numpy(), ratio=ratio, seed=seed, method=method)
        # pandas' hash lookup, also for integer IDs: np.isin sorts the IDs with the attackers
        # (6 ms vs 1.4 ms for 104 K rows and 300 attackers, per block of the pipeline)
        flag = ids.isin(np.asarray(attackers)).to_numpy().astype(np.int8)
    out["isAttacker"] = flag
    return out


# ----------------------------------------------------------------------------- attacks

def _row_keys(df: pd.DataFrame, row_key, func: str) -> np.ndarray:
    if row_key is None:
        idx = df.index
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{func}: per-row randomness is keyed on the row number, but the "
                            f"index has dtype {idx.dtype}; pass row_key=<integer column> or read "
                            f"with blockops.io (its index is the global row number)")
        return np.asarray(idx, dtype=np.int64).view(np.uint64)
    _require(df, [row_key], func)
    return id_keys(df[row_key])


def _check_coords(func: str, coords: str) -> None:
    if coords not in ("xy", "latlon"):
        raise ValueError(f"{func}: coords must be 'xy' or 'latlon', not {coords!r}")


def _check_dist(func: str, lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (0 <= lo <= hi) or not math.isfinite(hi):
        raise ValueError(f"{func}: need 0 <= min_dist <= max_dist < inf, got {lo!r}, {hi!r}")
    return lo, hi


def _attack_rows(df: pd.DataFrame, func: str, extra=()) -> np.ndarray:
    _require(df, ["x_pos", "y_pos", "isAttacker", *extra], func)
    return np.flatnonzero(df["isAttacker"].to_numpy() == 1)


def _move(x, y, angle_deg, dist, coords: str, n_threads):
    """Move points by (angle, distance): xy -> angle counter-clockwise from +x in metres;
    latlon -> bearing clockwise from north on the sphere (x = lon, y = lat)."""
    if coords == "xy":
        a = np.deg2rad(angle_deg)
        return x + dist * np.cos(a), y + dist * np.sin(a)
    lat2, lon2 = _geo.destination(lat=y, lon=x, bearing_deg=angle_deg, distance_m=dist,
                                  n_threads=n_threads)
    return lon2, lat2


def _with_xy(df: pd.DataFrame, rows: np.ndarray, nx, ny, extra: dict | None = None):
    out = df.copy(deep=False)
    x = df["x_pos"].to_numpy(np.float64, copy=True)
    y = df["y_pos"].to_numpy(np.float64, copy=True)
    x[rows] = nx
    y[rows] = ny
    out["x_pos"] = x
    out["y_pos"] = y
    for col, vals in (extra or {}).items():
        v = df[col].to_numpy(np.float64, copy=True)
        v[rows] = vals
        out[col] = v
    return out


def _draws(keys: np.ndarray, seed: int, stream: str, lo: float, hi: float, n_threads):
    nt = _threads(n_threads)
    s = STREAMS[stream]
    ang = _core.rng_uniform(keys, seed=seed, stream=s, counter=_DIRECTION, low=0.0, high=360.0,
                            n_threads=nt)
    dist = _core.rng_uniform(keys, seed=seed, stream=s, counter=_DISTANCE, low=lo, high=hi,
                             n_threads=nt)
    return ang, dist


@_dask_meta_aware
def positional_offset_const(df: pd.DataFrame, *, direction_deg: float = 45.0,
                            distance_m: float = 50.0, coords: str = "xy",
                            n_threads: int | None = None) -> pd.DataFrame:
    """Move every attacker row by the same vector (``distance_m`` towards ``direction_deg``)."""
    f = "positional_offset_const"
    _check_coords(f, coords)
    rows = _attack_rows(df, f)
    x = df["x_pos"].to_numpy(np.float64)[rows]
    y = df["y_pos"].to_numpy(np.float64)[rows]
    nx, ny = _move(x, y, np.full(rows.size, float(direction_deg)),
                   np.full(rows.size, float(distance_m)), coords, n_threads)
    return _with_xy(df, rows, nx, ny)


@_dask_meta_aware
def positional_offset_rand(df: pd.DataFrame, *, min_dist: float = 25.0, max_dist: float = 250.0,
                           seed: int = 42, coords: str = "xy", row_key: str | None = None,
                           n_threads: int | None = None) -> pd.DataFrame:
    """Move each attacker row by its own random direction (0-360) and distance
    (``min_dist``-``max_dist`` m), drawn from (seed, row key)."""
    f = "positional_offset_rand"
    _check_coords(f, coords)
    lo, hi = _check_dist(f, min_dist, max_dist)
    rows = _attack_rows(df, f)
    keys = _row_keys(df, row_key, f)[rows]
    ang, dist = _draws(keys, seed, f, lo, hi, n_threads)
    x = df["x_pos"].to_numpy(np.float64)[rows]
    y = df["y_pos"].to_numpy(np.float64)[rows]
    return _with_xy(df, rows, *_move(x, y, ang, dist, coords, n_threads))


@_dask_meta_aware
def positional_offset_const_per_id_with_random_direction(
        df: pd.DataFrame, *, min_dist: float = 25.0, max_dist: float = 250.0, seed: int = 42,
        coords: str = "xy", id_column: str = ID, n_threads: int | None = None) -> pd.DataFrame:
    """Move all rows of an attacker vehicle by one offset: a random direction and distance per
    vehicle ID, drawn from (seed, id), so every partition agrees without a lookup table."""
    f = "positional_offset_const_per_id_with_random_direction"
    _check_coords(f, coords)
    lo, hi = _check_dist(f, min_dist, max_dist)
    rows = _attack_rows(df, f, [id_column])
    keys = id_keys(df[id_column].iloc[rows], n_threads=n_threads)
    ang, dist = _draws(keys, seed, f, lo, hi, n_threads)
    x = df["x_pos"].to_numpy(np.float64)[rows]
    y = df["y_pos"].to_numpy(np.float64)[rows]
    return _with_xy(df, rows, *_move(x, y, ang, dist, coords, n_threads))


def _origin(func: str, origin, coords: str) -> tuple[float, float]:
    """(x, y) of the override origin: (0, 0) in projected metres, else must be given."""
    if origin is None:
        if coords == "latlon":
            raise ValueError(f"{func}: origin=(lat, lon) is required with coords='latlon'")
        return 0.0, 0.0
    try:
        a, b = (float(v) for v in origin)
    except (TypeError, ValueError):
        raise ValueError(f"{func}: origin must be a pair of numbers, got {origin!r}") from None
    # latlon origins are given as (lat, lon) like every geographic argument; xy as (x, y)
    return (b, a) if coords == "latlon" else (a, b)


@_dask_meta_aware
def positional_override_const(df: pd.DataFrame, *, direction_deg: float = 45.0,
                              distance_m: float = 50.0, origin=None, coords: str = "xy",
                              n_threads: int | None = None) -> pd.DataFrame:
    """Set every attacker row's position to the point ``distance_m`` from ``origin`` towards
    ``direction_deg``. ``origin`` is ``(x, y)`` metres (default (0, 0), the projection origin)
    or ``(lat, lon)`` with ``coords="latlon"`` (required)."""
    f = "positional_override_const"
    _check_coords(f, coords)
    ox, oy = _origin(f, origin, coords)
    rows = _attack_rows(df, f)
    nx, ny = _move(np.full(rows.size, ox), np.full(rows.size, oy),
                   np.full(rows.size, float(direction_deg)), np.full(rows.size, float(distance_m)),
                   coords, n_threads)
    return _with_xy(df, rows, nx, ny)


@_dask_meta_aware
def positional_override_rand(df: pd.DataFrame, *, min_dist: float = 25.0,
                             max_dist: float = 250.0, seed: int = 42, origin=None,
                             coords: str = "xy", row_key: str | None = None,
                             n_threads: int | None = None) -> pd.DataFrame:
    """Set each attacker row's position to a random point: direction 0-360 and distance
    ``min_dist``-``max_dist`` from ``origin``, drawn from (seed, row key)."""
    f = "positional_override_rand"
    _check_coords(f, coords)
    lo, hi = _check_dist(f, min_dist, max_dist)
    ox, oy = _origin(f, origin, coords)
    rows = _attack_rows(df, f)
    keys = _row_keys(df, row_key, f)[rows]
    ang, dist = _draws(keys, seed, f, lo, hi, n_threads)
    return _with_xy(df, rows, *_move(np.full(rows.size, ox), np.full(rows.size, oy), ang, dist,
                                     coords, n_threads))


# ----------------------------------------------------------------------------- swap

@dataclass(frozen=True)
class DonorPool:
    """A deterministic bounded sample of rows to copy positions from.

    The ``size`` rows with the smallest keyed hash ``h(seed, row key)`` ("bottom-k" sampling):
    the same rows whatever the partitioning, and two pools merge by keeping the bottom ``size``
    of their union, so it is built in one streaming pass with ``size`` rows of memory
    (:attr:`nbytes`). Rows are held in hash order.
    """

    size: int
    seed: int
    priority: np.ndarray  # uint64, ascending
    key: np.ndarray       # uint64 row keys (tie-break)
    x: np.ndarray
    y: np.ndarray
    elevation: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.priority, self.key, self.x, self.y, self.elevation))

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def empty(cls, size: int = DEFAULT_POOL_SIZE, seed: int = 42) -> "DonorPool":
        z = np.empty(0, np.float64)
        return cls(int(size), int(seed), np.empty(0, np.uint64), np.empty(0, np.uint64), z, z, z)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, size: int = DEFAULT_POOL_SIZE, seed: int = 42,
                   row_key: str | None = None, n_threads: int | None = None) -> "DonorPool":
        """The pool of one frame (its bottom ``size`` rows)."""
        if int(size) < 1:
            raise ValueError(f"DonorPool: size must be >= 1, got {size!r}")
        _require(df, ["x_pos", "y_pos", ELEVATION], "DonorPool")
        keys = _row_keys(df, row_key, "DonorPool")
        pr = _core.rng_u64(keys, seed=seed, stream=STREAMS["swap_pool"],
                           n_threads=_threads(n_threads))
        return cls._bottom(int(size), int(seed), pr, keys, df["x_pos"].to_numpy(np.float64),
                           df["y_pos"].to_numpy(np.float64), df[ELEVATION].to_numpy(np.float64))

    @classmethod
    def _bottom(cls, size, seed, pr, keys, x, y, e) -> "DonorPool":
        if len(pr) > size:  # cheap cut before the exact sort
            part = np.argpartition(pr, size - 1)[:size]
            kth = pr[part].max()
            sel = np.flatnonzero(pr <= kth)  # keep ties at the cut so the order below decides
            pr, keys, x, y, e = pr[sel], keys[sel], x[sel], y[sel], e[sel]
        order = np.lexsort((keys, pr))[:size]
        return cls(size, seed, pr[order], keys[order], x[order], y[order], e[order])

    def merge(self, other: "DonorPool") -> "DonorPool":
        """Bottom ``size`` of both pools (associative and commutative)."""
        if (self.size, self.seed) != (other.size, other.seed):
            raise ValueError("DonorPool.merge: pools differ in size or seed")
        cat = np.concatenate
        return DonorPool._bottom(self.size, self.seed, cat([self.priority, other.priority]),
                                 cat([self.key, other.key]), cat([self.x, other.x]),
                                 cat([self.y, other.y]), cat([self.elevation, other.elevation]))


def positional_swap_rand(df: pd.DataFrame, *, seed: int = 42, pool=None, coords: str = "xy",
                         row_key: str | None = None,
                         n_threads: int | None = None) -> pd.DataFrame:
    """Copy ``x_pos``, ``y_pos`` and ``coreData_elevation`` of each attacker row from a random
    donor row.

    Donors come from ``pool``: a :class:`DonorPool` drawn over the whole data set (what the
    pipeline and :func:`blockops.dask.positional_swap_rand` pass), or an int, the size of a pool
    drawn from this frame (default :data:`DEFAULT_POOL_SIZE`). The donor of a row is chosen by
    (seed, row key), so results do not depend on partitioning once the pool is global.
    ``coords`` is accepted for symmetry: a swap copies values in whatever units they are.
    """
    f = "positional_swap_rand"
    _check_coords(f, coords)
    rows = _attack_rows(df, f, [ELEVATION])
    if pool is None or isinstance(pool, (int, np.integer)):
        size = DEFAULT_POOL_SIZE if pool is None else int(pool)
        pool = DonorPool.from_frame(df, size=size, seed=seed, row_key=row_key,
                                    n_threads=n_threads)
    if not isinstance(pool, DonorPool):
        raise TypeError(f"{f}: pool must be a DonorPool or an int, not {type(pool).__name__}")
    if rows.size == 0:  # still through _with_xy: the same dtypes as when rows change
        z = np.empty(0, np.float64)
        return _with_xy(df, rows, z, z, {ELEVATION: z})
    if len(pool) == 0:
        raise ValueError(f"{f}: the donor pool is empty")
    keys = _row_keys(df, row_key, f)[rows]
    u = _core.rng_uniform(keys, seed=seed, stream=STREAMS[f], n_threads=_threads(n_threads))
    pick = np.minimum((u * len(pool)).astype(np.int64), len(pool) - 1)
    return _with_xy(df, rows, pool.x[pick], pool.y[pick], {ELEVATION: pool.elevation[pick]})


ATTACKS: dict[str, Callable[..., pd.DataFrame]] = {
    "positional_offset_const": positional_offset_const,
    "positional_offset_rand": positional_offset_rand,
    "positional_offset_const_per_id_with_random_direction":
        positional_offset_const_per_id_with_random_direction,
    "positional_swap_rand": positional_swap_rand,
    "positional_override_const": positional_override_const,
    "positional_override_rand": positional_override_rand,
}


def meta(func: Callable[..., pd.DataFrame], df_meta: pd.DataFrame, *args, **kwargs):
    """The output ``meta`` of ``func(df, ...)`` for input meta ``df_meta`` (an empty frame
    with the input's columns and dtypes): the operator run on zero rows, which every operator
    supports, so the meta can never disagree with the real output."""
    return func(df_meta.iloc[:0], *args, **kwargs)
