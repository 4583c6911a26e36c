"""Synthetic data sets in the formats of the pipelines blockops replaces.

:func:`write_bsm_csv` writes a Wyoming CV Pilot Basic Safety Message (BSM) CSV in
exactly the 19-column format of ``shared/data/bsm/sample_10k.csv``: vehicles drive back and
forth along a few roads (polylines) around a centre, with plausible speeds, headings,
elevations and GPS noise, many rows per vehicle ID and advancing timestamps.

Determinism
-----------
Every random draw of the rows ``[k * BLOCK_ROWS, (k + 1) * BLOCK_ROWS)`` comes from a
generator seeded with ``(seed, k)`` only, and vehicle trajectories are closed-form functions
of time, so the bytes of a file depend on ``seed``, ``rows`` (or ``nbytes``) and the
generation parameters, never on ``batch_rows`` (how many rows are built in memory at once).
A file is therefore a byte prefix of any longer file generated with the same parameters
(including ``vehicles``, whose default depends on ``rows``).

Floats are written with the shortest round-trip representation, formatted like Python's
``repr(float)`` (``0.0``, ``1e-05``), so a correct reader gets back the exact doubles.

Requires pyarrow (used to format and write the columns in C++).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import numpy as np

from .io.csv import parse_size  # noqa: F401  (re-exported: "1GB", "512KiB", ints)

__all__ = [
    "BSM_COLUMNS",
    "BLOCK_ROWS",
    "SynthResult",
    "parse_size",
    "write_bsm_csv",
    "bsm_row_bytes_estimate",
    "bsm_rows_text",
]

#: The 19 columns of the BSM export, in file order (the header of sample_10k.csv).
BSM_COLUMNS: tuple[str, ...] = (
    "metadata_generatedAt",
    "metadata_recordType",
    "metadata_serialId_streamId",
    "metadata_serialId_bundleSize",
    "metadata_serialId_bundleId",
    "metadata_serialId_recordId",
    "metadata_serialId_serialNumber",
    "metadata_receivedAt",
    "coreData_id",
    "coreData_secMark",
    "coreData_position_lat",
    "coreData_position_long",
    "coreData_accuracy_semiMajor",
    "coreData_accuracy_semiMinor",
    "coreData_elevation",
    "coreData_accelset_accelYaw",
    "coreData_speed",
    "coreData_heading",
    "coreData_position",
)

#: Rows per random-number block: the draws of block k come from the seed ``(seed, k)``.
#: Part of the file format definition: changing it changes every generated file.
BLOCK_ROWS = 16384

_EARTH_R = 6_371_000.0
_TS_FORMAT = "%m/%d/%Y %I:%M:%S %p"
_MAX_SPEED = 45.0  # m/s; the sample clips speeds to [0, 45]
_DEFAULT_BATCH_ROWS = 16 * BLOCK_ROWS
# Stream tags, so that road, vehicle and per-row draws never share a generator.
_TAG_ROADS, _TAG_VEHICLES, _TAG_ROWS = 0x5B01, 0x5B02, 0x5B03


@dataclass(frozen=True)
class SynthResult:
    """What :func:`write_bsm_csv` wrote.

    Attributes
    ----------
    path : str
        The output file.
    rows : int
        Data rows written (the header is not counted).
    nbytes : int
        File size in bytes, header included.
    vehicles : int
        Number of distinct vehicle IDs that may appear.
    seconds : float
        Wall-clock time spent generating and writing.
    """

    path: str
    rows: int
    nbytes: int
    vehicles: int
    seconds: float


def bsm_row_bytes_estimate() -> int:
    """Typical bytes per data row of :func:`write_bsm_csv` output (for planning only)."""
    return 300


def _default_vehicles(rows: int) -> int:
    # About 1000 rows per vehicle ID on large files (many rows per ID for the per-ID attacks),
    # at least 20 IDs on small ones.
    return int(min(20_000, max(20, rows // 1000)))


# --------------------------------------------------------------------------- the world

@dataclass
class _Roads:
    """Road polylines in local metres about the centre (x east, y north)."""

    cum: list[np.ndarray]        # cumulative length at each vertex, cum[0] = 0
    x: list[np.ndarray]
    y: list[np.ndarray]
    elev: list[np.ndarray]       # elevation (m) at each vertex
    bearing: list[np.ndarray]    # bearing of each segment, degrees clockwise from north
    length: np.ndarray           # total length per road


def _make_roads(seed: int, n_roads: int) -> _Roads:
    rng = np.random.default_rng([seed, _TAG_ROADS])
    cum, xs, ys, elevs, bearings = [], [], [], [], []
    for _ in range(n_roads):
        n_seg = int(rng.integers(20, 40))
        seg_len = rng.uniform(300.0, 1200.0, n_seg)
        # A road wanders: the bearing changes a little at every vertex, sometimes a turn.
        turn = rng.normal(0.0, 8.0, n_seg)
        turn[rng.random(n_seg) < 0.1] += rng.choice([-90.0, 90.0, -45.0, 45.0])
        b0 = rng.uniform(0.0, 360.0)
        bearing = (b0 + np.cumsum(turn)) % 360.0
        br = np.radians(bearing)
        x0, y0 = rng.uniform(-3000.0, 3000.0, 2)
        x = np.concatenate([[x0], x0 + np.cumsum(seg_len * np.sin(br))])
        y = np.concatenate([[y0], y0 + np.cumsum(seg_len * np.cos(br))])
        # Wyoming high plains: 1400..1850 m, a random walk along the road.
        e0 = rng.uniform(1500.0, 1750.0)
        elev = np.clip(e0 + np.concatenate([[0.0], np.cumsum(rng.normal(0.0, 12.0, n_seg))]),
                       1400.0, 1850.0)
        cum.append(np.concatenate([[0.0], np.cumsum(seg_len)]))
        xs.append(x)
        ys.append(y)
        elevs.append(elev)
        bearings.append(bearing)
    return _Roads(cum, xs, ys, elevs, bearings, np.array([c[-1] for c in cum]))


@dataclass
class _Vehicles:
    ids: np.ndarray          # uint32, unique
    id_text: Any             # pyarrow string array of 8-hex-digit IDs
    road: np.ndarray         # int64
    s0: np.ndarray           # position along the ping-pong loop at t = 0 (m)
    base: np.ndarray         # mean speed (m/s)
    amp: np.ndarray          # speed modulation amplitude (m/s)
    omega: np.ndarray        # modulation angular frequency (rad/s)
    phase: np.ndarray
    lane: np.ndarray         # lateral offset to the right of travel (m)


def _make_vehicles(seed: int, n: int, roads: _Roads, pa) -> _Vehicles:
    rng = np.random.default_rng([seed, _TAG_VEHICLES])
    ids = rng.choice(np.uint64(2**32), size=n, replace=False).astype(np.uint32)
    road = rng.integers(0, len(roads.length), n)
    s0 = rng.uniform(0.0, 2.0, n) * roads.length[road]
    base = rng.uniform(8.0, 33.0, n)
    parked = rng.random(n) < 0.03  # a few parked vehicles still broadcast (speed ~ 0)
    base[parked] = 0.0
    amp = rng.uniform(0.0, 0.5, n) * base
    omega = 2.0 * np.pi / rng.uniform(120.0, 1800.0, n)
    phase = rng.uniform(0.0, 2.0 * np.pi, n)
    lane = rng.choice([1.8, 5.4], n)
    id_text = pa.array(np.char.mod("%08x", ids.astype(np.int64)).tolist(), pa.string())
    return _Vehicles(ids, id_text, road, s0, base, amp, omega, phase, lane)


# --------------------------------------------------------------------------- formatting

def _float_text(x: np.ndarray, pa, pc):
    """Format float64 values like ``repr(float)`` into a pyarrow string array.

    Arrow's cast gives the same shortest round-trip digits as ``repr`` but writes ``0`` for
    ``0.0`` and ``0.00001`` for ``1e-05``; those few values go through ``repr`` itself.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = pa.array(x).cast(pa.string())
    ax = np.abs(x)
    # repr writes plain decimals exactly for 1e-4 <= |x| < 1e16; Arrow switches to exponents
    # earlier for large values, so everything >= 1e13 (never produced here) also goes to repr.
    odd = ~np.isfinite(x) | (x == np.floor(x)) | (ax < 1e-4) | (ax >= 1e13)
    if odd.any():
        idx = np.flatnonzero(odd)
        reps = pa.array([repr(float(v)) for v in x[idx]], pa.string())
        out = pc.replace_with_mask(out, pa.array(odd), reps)
    return out


def _timestamp_table(first_s: int, last_s: int, pa, pc):
    """``MM/DD/YYYY HH:MM:SS AM/PM`` text for every second in [first_s, last_s] (epoch s)."""
    secs = pa.array(np.arange(first_s, last_s + 1, dtype=np.int64), pa.timestamp("s"))
    return pc.strftime(secs, format=_TS_FORMAT, locale="C")


# --------------------------------------------------------------------------- one block

def _block_table(k: int, lo: int, hi: int, *, seed: int, t0: int, rows_per_second: float,
                 roads: _Roads, veh: _Vehicles, center_lat: float, center_lon: float,
                 null_fraction: float, pa, pc):
    """Rows [lo, hi) of random block k (lo, hi within the block) as a pyarrow Table."""
    base = k * BLOCK_ROWS
    m = BLOCK_ROWS
    rng = np.random.default_rng([seed, _TAG_ROWS, k])
    # Draw the whole block in a fixed order, then slice: the draws do not depend on hi/lo.
    vi_all = rng.integers(0, len(veh.ids), m)
    ms_all = rng.integers(0, 1000, m)
    delay_all = (rng.random(m) < 0.2).astype(np.int64)
    noise_all = rng.normal(0.0, 1.0, (6, m))
    semi_major_all = rng.uniform(1.0, 10.0, m)
    minor_frac_all = rng.uniform(0.3, 1.0, m)
    null_u_all = rng.random(m)
    null_col_all = rng.integers(0, len(BSM_COLUMNS), m)
    sl = slice(lo, hi)
    n = hi - lo
    gi = base + np.arange(lo, hi, dtype=np.int64)       # global row numbers
    vi = vi_all[sl]
    noise = noise_all[:, sl]

    # Time: the global clock advances rows_per_second rows per second.
    sec = (gi / rows_per_second).astype(np.int64)      # seconds since start
    t = sec + ms_all[sl] / 1000.0
    abs_sec = t0 + sec
    sec_mark = (abs_sec % 60) * 1000 + ms_all[sl]

    # Closed-form motion along the road (speed = base + amp * sin(omega t + phase)), back and
    # forth between the road's ends.
    b, a, w, ph = veh.base[vi], veh.amp[vi], veh.omega[vi], veh.phase[vi]
    p = veh.s0[vi] + b * t + (a / w) * (np.cos(ph) - np.cos(w * t + ph))
    speed = b + a * np.sin(w * t + ph)
    r = veh.road[vi]
    L = roads.length[r]
    q = np.mod(p, 2.0 * L)
    backward = q > L
    s = np.where(backward, 2.0 * L - q, q)
    x = np.empty(n)
    y = np.empty(n)
    elev = np.empty(n)
    bearing = np.empty(n)
    for j in range(len(roads.length)):
        sel = np.flatnonzero(r == j)
        if sel.size == 0:
            continue
        cum = roads.cum[j]
        seg = np.clip(np.searchsorted(cum, s[sel], side="right") - 1, 0, len(cum) - 2)
        f = (s[sel] - cum[seg]) / (cum[seg + 1] - cum[seg])
        xj, yj, ej = roads.x[j], roads.y[j], roads.elev[j]
        x[sel] = xj[seg] + f * (xj[seg + 1] - xj[seg])
        y[sel] = yj[seg] + f * (yj[seg + 1] - yj[seg])
        elev[sel] = ej[seg] + f * (ej[seg + 1] - ej[seg])
        bearing[sel] = roads.bearing[j][seg]
    bearing = np.where(backward, bearing + 180.0, bearing) % 360.0
    # Drive on the right: offset perpendicular to the direction of travel, plus GPS noise.
    br = np.radians(bearing)
    lane = veh.lane[vi]
    x = x + lane * np.cos(br) + 1.5 * noise[0]
    y = y - lane * np.sin(br) + 1.5 * noise[1]
    lat = center_lat + np.degrees(y / _EARTH_R)
    lon = center_lon + np.degrees(x / (_EARTH_R * math.cos(math.radians(center_lat))))
    elev = elev + 2.0 * noise[2]
    speed = np.clip(speed + 0.4 * noise[3], 0.0, _MAX_SPEED)
    heading = np.rint(bearing + 2.0 * noise[4]).astype(np.int64) % 360
    accel_yaw = 2.5 * noise[5]
    semi_major = semi_major_all[sl]
    semi_minor = semi_major * minor_frac_all[sl]

    first_s, last_s = int(abs_sec[0]), int(abs_sec[-1]) + 1
    ts = _timestamp_table(first_s, last_s, pa, pc)
    gen_idx = pa.array(abs_sec - first_s)
    ids = veh.id_text.take(pa.array(vi))
    lat_t = _float_text(lat, pa, pc)
    lon_t = _float_text(lon, pa, pc)
    point = pc.binary_join_element_wise("POINT (", lon_t, " ", lat_t, ")", "")
    zeros = pa.array(np.zeros(n, dtype=np.int64))
    cols = [
        ts.take(gen_idx),
        pa.array(np.full(n, "bsmTx", dtype=object), pa.string()),
        ids,
        pa.array(np.ones(n, dtype=np.int64)),
        pa.array(gi),
        zeros,
        pa.array(gi),
        ts.take(pa.array(abs_sec - first_s + delay_all[sl])),
        ids,
        pa.array(sec_mark),
        lat_t,
        lon_t,
        _float_text(semi_major, pa, pc),
        _float_text(semi_minor, pa, pc),
        _float_text(elev, pa, pc),
        _float_text(accel_yaw, pa, pc),
        _float_text(speed, pa, pc),
        pa.array(heading),
        point,
    ]
    if null_fraction > 0.0:
        is_null = null_u_all[sl] < null_fraction
        ncol = null_col_all[sl]
        for j in range(len(cols)):
            mask = is_null & (ncol == j)
            if mask.any():
                cols[j] = pc.if_else(pa.array(mask), pa.scalar(None, cols[j].type), cols[j])
    return pa.table(cols, names=list(BSM_COLUMNS))


def _row_bytes(table, eol: str, pa, pc) -> np.ndarray:
    """Bytes of each CSV row of ``table`` (fields, 18 commas and the line terminator)."""
    total = np.full(table.num_rows, len(BSM_COLUMNS) - 1 + len(eol), dtype=np.int64)
    for col in table.columns:
        if pa.types.is_string(col.type):
            lens = pc.binary_length(col)
        else:
            lens = pc.binary_length(col.cast(pa.string()))
        total += lens.fill_null(0).to_numpy()
    return total


def _csv_rows_writer(eol: str, pa, pcsv) -> Callable[[Any, Any], None]:
    """``write(table, f)``: the table's rows as CSV (no header, nothing quoted), each ending in
    ``eol``; the same bytes whether or not this pyarrow can set the line terminator."""
    kw = dict(include_header=False, quoting_style="none", batch_size=BLOCK_ROWS)
    try:
        opts = pcsv.WriteOptions(eol=eol, **kw)
    except TypeError:  # pyarrow < 22 has no eol= and ends every line with "\n"
        opts = None
    if opts is not None or eol == "\n":
        opts = opts if opts is not None else pcsv.WriteOptions(**kw)
        return lambda table, f: pcsv.write_csv(table, f, write_options=opts)
    plain = pcsv.WriteOptions(**kw)
    eol_b = eol.encode()

    def write(table, f) -> None:
        # quoting_style="none" makes pyarrow refuse a field with a line break in it, so every
        # "\n" it writes ends a row. One block (16384 rows, about 4 MB of text) at a time.
        for batch in table.to_batches(max_chunksize=BLOCK_ROWS):
            sink = pa.BufferOutputStream()
            pcsv.write_csv(batch, sink, write_options=plain)
            f.write(sink.getvalue().to_pybytes().replace(b"\n", eol_b))

    return write


# --------------------------------------------------------------------------- public

def write_bsm_csv(
    path: Union[str, os.PathLike],
    *,
    rows: Optional[int] = None,
    nbytes: Optional[Union[int, str]] = None,
    seed: int = 42,
    vehicles: Optional[int] = None,
    start: str = "2021-04-06 10:00:00",
    center: tuple[float, float] = (41.25, -105.93),
    roads: int = 4,
    rows_per_second: float = 10.0,
    null_fraction: float = 0.0,
    line_terminator: str = "\r\n",
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    progress: Union[bool, Callable[[int], None]] = False,
) -> SynthResult:
    """Write a synthetic Basic Safety Message CSV in the Wyoming CV Pilot export format.

    The file has the 19 columns of :data:`BSM_COLUMNS` with the formats of the shared
    ``sample_10k.csv`` (CRLF line ends by default, like the sample): ``MM/DD/YYYY HH:MM:SS AM/PM`` timestamps, ``bsmTx`` record type,
    8-hex-digit (lowercase) stream and vehicle IDs, integer serial fields, floats in shortest
    round-trip ``repr`` form, integer headings and ``POINT (lon lat)`` positions that repeat the
    lat/long columns' text.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (overwritten).
    rows : int, optional
        Number of data rows. Exactly one of ``rows`` and ``nbytes`` must be given.
    nbytes : int or str, optional
        Target file size (e.g. ``"1GB"``): the file holds the fewest rows whose total size,
        header included, is at least ``nbytes``.
    seed : int, default 42
        Seed of every random draw; the same seed and parameters give the same bytes.
    vehicles : int, optional
        Number of vehicle IDs. Default: ``rows // 1000`` clamped to [20, 20000] (with
        ``nbytes``, ``rows`` is estimated from the size first).
    start : str, default "2021-04-06 10:00:00"
        Timestamp of the first row (naive, parsed by :meth:`datetime.datetime.fromisoformat`).
    center : tuple of float, default (41.25, -105.93)
        ``(lat, lon)`` in degrees of the centre of the road network (roads start within 3 km
        of it and run 6-48 km).
    roads : int, default 4
        Number of road polylines.
    rows_per_second : float, default 10.0
        Rows per second of the global clock: row ``i`` is generated at second
        ``floor(i / rows_per_second)`` after ``start`` (plus a random millisecond, which
        goes into ``coreData_secMark``, the milliseconds within the minute).
    null_fraction : float, default 0.0
        Probability that a row has one empty field (in a column chosen uniformly), for
        ``dropna`` tests.
    line_terminator : {"\\r\\n", "\\n"}, default "\\r\\n"
        End of every line, header included. The shared sample (and so the default) uses CRLF.
    batch_rows : int, default 262144
        Rows built in memory at once (rounded up to a multiple of :data:`BLOCK_ROWS`);
        affects memory use (about 1 KB per row) and speed, never the output.
    progress : bool or callable, default False
        ``True`` shows a tqdm bar in bytes; a callable is called with the bytes of each
        written batch.

    Returns
    -------
    SynthResult
        Path, rows, bytes, number of vehicle IDs and seconds taken.

    Raises
    ------
    ValueError
        If both or neither of ``rows``/``nbytes`` are given, or a parameter is out of range.
    ImportError
        If pyarrow is not installed.

    Notes
    -----
    Each vehicle drives back and forth along one road with speed
    ``base + amp * sin(omega * t + phase)`` (3% are parked), so its position is a closed-form
    function of time and any row can be generated without the rows before it. Reported
    values add noise: position (1.5 m), elevation (2 m), speed (0.4 m/s, clipped to
    [0, 45]), heading (2 deg, rounded); yaw rate is N(0, 2.5) deg/s; accuracy semi-major
    U(1, 10) m, semi-minor 0.3-1.0 of it. ``metadata_receivedAt`` is ``generatedAt`` or one
    second later. ``bundleId`` and ``serialNumber`` are the global row number (as in the
    sample), ``streamId`` is the vehicle ID.

    Examples
    --------
    >>> from blockops.synth import write_bsm_csv
    >>> r = write_bsm_csv("/tmp/bsm.csv", rows=1000, seed=1)   # doctest: +SKIP
    >>> r.rows
    1000
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("blockops.synth needs pyarrow (pip install pyarrow)") from exc

    if (rows is None) == (nbytes is None):
        raise ValueError("give exactly one of rows= and nbytes=")
    target_bytes: Optional[int] = None
    if rows is not None:
        rows = int(rows)
        if rows < 0:
            raise ValueError(f"rows must be >= 0, got {rows}")
    else:
        target_bytes = parse_size(nbytes)  # type: ignore[arg-type]
    if not 0.0 <= null_fraction <= 1.0:
        raise ValueError(f"null_fraction must be in [0, 1], got {null_fraction}")
    if line_terminator not in ("\r\n", "\n"):
        raise ValueError(f"line_terminator must be '\\r\\n' or '\\n', got {line_terminator!r}")
    if rows_per_second <= 0:
        raise ValueError(f"rows_per_second must be > 0, got {rows_per_second}")
    if roads < 1:
        raise ValueError(f"roads must be >= 1, got {roads}")
    center_lat, center_lon = (float(c) for c in center)
    if not (-80.0 <= center_lat <= 80.0 and -180.0 <= center_lon <= 180.0):
        raise ValueError(f"center must be (lat, lon) with |lat| <= 80, got {center!r}")
    if vehicles is None:
        est = rows if rows is not None else max(1, target_bytes // bsm_row_bytes_estimate())
        vehicles = _default_vehicles(int(est))
    vehicles = int(vehicles)
    if not 1 <= vehicles <= 2**31:
        raise ValueError(f"vehicles must be in [1, 2**31], got {vehicles}")
    batch_blocks = max(1, -(-int(batch_rows) // BLOCK_ROWS))
    t_start = time.perf_counter()
    t0 = int(_dt.datetime.fromisoformat(start).replace(tzinfo=_dt.timezone.utc).timestamp())

    road_net = _make_roads(seed, roads)
    veh = _make_vehicles(seed, vehicles, road_net, pa)
    header = (",".join(BSM_COLUMNS) + line_terminator).encode()
    write_rows = _csv_rows_writer(line_terminator, pa, pcsv)

    bar = None
    callback: Optional[Callable[[int], None]] = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=target_bytes if target_bytes is not None else None, unit="B",
                   unit_scale=True, desc=os.path.basename(os.fspath(path)))
        callback = bar.update
    elif callable(progress):
        callback = progress

    written_rows = 0
    written = 0
    try:
        with open(path, "wb") as f:
            f.write(header)
            written = len(header)
            k = 0
            done = (rows == 0) if rows is not None else (written >= target_bytes)
            while not done:
                tables = []
                for kk in range(k, k + batch_blocks):
                    lo_row = kk * BLOCK_ROWS
                    hi = BLOCK_ROWS if rows is None else min(BLOCK_ROWS, rows - lo_row)
                    if hi <= 0:
                        break
                    tables.append(_block_table(
                        kk, 0, hi, seed=seed, t0=t0, rows_per_second=rows_per_second,
                        roads=road_net, veh=veh, center_lat=center_lat, center_lon=center_lon,
                        null_fraction=null_fraction, pa=pa, pc=pc))
                k += len(tables)
                table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
                del tables
                if target_bytes is not None:
                    csum = np.cumsum(_row_bytes(table, line_terminator, pa, pc))
                    need = target_bytes - written
                    if csum[-1] >= need:
                        keep = int(np.searchsorted(csum, need, side="left")) + 1
                        table = table.slice(0, keep)
                        done = True
                before = f.tell()
                write_rows(table, f)
                nb = f.tell() - before
                written += nb
                written_rows += table.num_rows
                if rows is not None and written_rows >= rows:
                    done = True
                if callback is not None:
                    callback(nb)
                del table
    finally:
        if bar is not None:
            bar.close()
    return SynthResult(path=os.fspath(path), rows=written_rows, nbytes=written,
                       vehicles=vehicles, seconds=time.perf_counter() - t_start)


def bsm_rows_text(
    row_numbers,
    *,
    seed: int = 42,
    vehicles: int,
    start: str = "2021-04-06 10:00:00",
    center: tuple[float, float] = (41.25, -105.93),
    roads: int = 4,
    rows_per_second: float = 10.0,
    null_fraction: float = 0.0,
) -> list[list[str]]:
    """The field texts of given data rows of a :func:`write_bsm_csv` file, without the file.

    Rows are generated independently of each other, so any row can be rebuilt from the
    generation parameters alone; benchmarks use this as ground truth for what a reader must
    return, independent of every CSV reader.

    Parameters
    ----------
    row_numbers : sequence of int
        0-based data row numbers (the header is not a data row).
    seed, vehicles, start, center, roads, rows_per_second, null_fraction
        The parameters the file was written with (``vehicles`` is required: its default in
        :func:`write_bsm_csv` depends on the file size; :class:`SynthResult` reports it).

    Returns
    -------
    list of list of str
        For each requested row, its 19 field texts in file order (``""`` for an empty field).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    center_lat, center_lon = (float(c) for c in center)
    t0 = int(_dt.datetime.fromisoformat(start).replace(tzinfo=_dt.timezone.utc).timestamp())
    road_net = _make_roads(seed, roads)
    veh = _make_vehicles(seed, int(vehicles), road_net, pa)
    rows = [int(i) for i in row_numbers]
    if any(i < 0 for i in rows):
        raise ValueError("row_numbers must be >= 0")
    out: dict[int, list[str]] = {}
    for k in sorted({i // BLOCK_ROWS for i in rows}):
        table = _block_table(k, 0, BLOCK_ROWS, seed=seed, t0=t0, rows_per_second=rows_per_second,
                             roads=road_net, veh=veh, center_lat=center_lat,
                             center_lon=center_lon, null_fraction=null_fraction, pa=pa, pc=pc)
        want = [i for i in rows if i // BLOCK_ROWS == k]
        sub = table.take(pa.array([i - k * BLOCK_ROWS for i in want]))
        cols = [c.cast(pa.string()).to_pylist() for c in sub.columns]
        for r, i in enumerate(want):
            out[i] = ["" if c[r] is None else c[r] for c in cols]
    return [out[i] for i in rows]
