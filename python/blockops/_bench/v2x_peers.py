"""The V2X job written the way a competent user would write it today in polars and in DuckDB.

These are the peers of ``python -m blockops bench v2x`` (issue 18 section 2): the same steps as
the blockops pipeline of that benchmark (:func:`blockops._bench.v2x.pipeline_config`), each
kept small and idiomatic for its tool rather than a port of blockops' C:

1. read the BSM CSV with the export's types (text for metadata, ID and position, 64-bit ints
   for the serial fields and secMark, float64 for the numeric coreData fields), bad lines
   skipped;
2. clean: the 19 columns, rows with any missing value dropped, ``coreData_position``
   (``POINT (lon lat)``) -> ``x_pos`` / ``y_pos``, the hex vehicle ID -> int64, the timestamp
   ``%m/%d/%Y %I:%M:%S %p`` -> month, day, year, hour, minute, second, pm;
3. keep the rows within ``radius_m`` (great circle, haversine, R = 6,371,008.8 m) of the
   centre and project ``x_pos`` / ``y_pos`` to signed metres about it
   (``x = R dlon cos(lat0)``, ``y = R dlat``);
4. attackers, *exactly* as the original and blockops choose them: the sorted unique IDs of the
   cleaned, filtered rows split with scikit-learn's ``train_test_split(ids, test_size=ratio,
   random_state=seed)``, the test part are the attackers (``isAttacker`` int8). Neither tool
   can run NumPy's Mersenne-Twister permutation in its own engine, and a user who must
   reproduce the original's choice does what is done here: collect the (few) unique IDs in a
   first streaming pass, split them in Python, and join the attacker list back in the second;
5. per-ID constant offset with a random direction (``min_dist``..``max_dist`` metres, angle
   counter-clockwise from +x) drawn from a keyed hash of the vehicle ID in the engine's own
   hash function (polars ``Expr.hash(seed)``, DuckDB ``hash(id, seed)``): the same vector on
   every row of a vehicle, no global state. These hash functions are not blockops' Philox and
   are not even stable across versions of each tool, so the offsets differ from blockops' *by
   design*; rows, their values before the attack and ``isAttacker`` are comparable;
6. Parquet out: polars ``sink_parquet`` (streaming engine), DuckDB ``COPY ... TO``.

The module imports only the standard library at the top, so it loads without blockops' C
extension (the floors of polars and DuckDB are checked with it on another Python).
"""
from __future__ import annotations

import math
import os
import time
from typing import Any

#: Mean Earth radius, as blockops.geo and the ``haversine`` package use (filter and projection).
EARTH_RADIUS_M = 6371008.8
TS_FORMAT = "%m/%d/%Y %I:%M:%S %p"
POINT_RE = r"^POINT \((\S+) (\S+)\)$"
ID = "coreData_id"

#: The export's 19 columns and their types (DOMAIN.md 1), in file order: "str", "int", "float".
COLUMN_TYPES: dict[str, str] = {
    "metadata_generatedAt": "str", "metadata_recordType": "str",
    "metadata_serialId_streamId": "str", "metadata_serialId_bundleSize": "int",
    "metadata_serialId_bundleId": "int", "metadata_serialId_recordId": "int",
    "metadata_serialId_serialNumber": "int", "metadata_receivedAt": "str", ID: "str",
    "coreData_secMark": "int", "coreData_position_lat": "float",
    "coreData_position_long": "float", "coreData_accuracy_semiMajor": "float",
    "coreData_accuracy_semiMinor": "float", "coreData_elevation": "float",
    "coreData_accelset_accelYaw": "float", "coreData_speed": "float", "coreData_heading": "float",
    "coreData_position": "str",
}
#: Timestamp parts and their widths, as blockops.v2x.timestamp_parts gives them.
PARTS = (("month", 8), ("day", 8), ("year", 16), ("hour", 8), ("minute", 8), ("second", 8))


class PeerNotAvailable(ImportError):
    """The peer's library (or scikit-learn, for the exact attacker split) is not installed."""


def exact_attackers(ids, *, ratio: float, seed: int):
    """The original's attacker IDs, chosen with scikit-learn as a user of the peers would.

    Parameters
    ----------
    ids : array-like of int
        The distinct vehicle IDs (int64) of the cleaned, filtered rows, in any order.
    ratio : float
        Share of attackers: ``test_size`` of ``train_test_split``.
    seed : int
        ``random_state`` of ``train_test_split``.

    Returns
    -------
    numpy.ndarray
        The test part of ``train_test_split(sorted ids, test_size=ratio,
        random_state=seed)`` (``ceil(ratio * n)`` IDs), sorted, int64. scikit-learn refuses
        fewer than two samples and a ratio outside (0, 1); those edges are answered as
        ``blockops.v2x.select_attackers`` answers them (none, or all).
    """
    import numpy as np

    try:
        from sklearn.model_selection import train_test_split
    except ImportError as exc:
        raise PeerNotAvailable(f"scikit-learn is needed for the exact attacker split: {exc}") \
            from exc
    ids = np.sort(np.asarray(ids, dtype=np.int64))
    if ratio <= 0 or ids.size == 0:
        return ids[:0]
    if ratio >= 1 or ids.size == 1:  # one ID: ceil(ratio * 1) = 1 attacker, as blockops
        return ids
    _, test = train_test_split(ids, test_size=ratio, random_state=seed)
    return np.sort(np.asarray(test, dtype=np.int64))


# --------------------------------------------------------------------------- polars

def _polars():
    try:
        import polars as pl
    except ImportError as exc:
        raise PeerNotAvailable(f"polars is not installed: {exc}") from exc
    return pl


def _polars_collect(lf):
    """``collect`` on the streaming engine: ``engine="streaming"`` from polars 1.23 on, the
    ``streaming=True`` flag of the older engine before (polars 1.0, the declared floor)."""
    import inspect

    pl = _polars()
    if "engine" in inspect.signature(pl.LazyFrame.collect).parameters:
        try:
            return lf.collect(engine="streaming")
        except (ValueError, TypeError):  # an "engine" that knows only cpu/gpu (1.4 - 1.22)
            pass
    return lf.collect(streaming=True)


def polars_cleaned(path: str, *, center_lat: float, center_lon: float, radius_m: float):
    """Steps 1-3 as a polars ``LazyFrame`` (nothing is read until it is collected or sunk)."""
    pl = _polars()
    types = {"str": pl.String, "int": pl.Int64, "float": pl.Float64}
    lat0, lon0 = math.radians(center_lat), math.radians(center_lon)
    R = EARTH_RADIUS_M
    lat, lon = pl.col("y_pos").radians(), pl.col("x_pos").radians()
    hav = ((lat - lat0) / 2).sin().pow(2) + \
        math.cos(lat0) * lat.cos() * ((lon - lon0) / 2).sin().pow(2)
    ts = pl.col("metadata_generatedAt").str.to_datetime(TS_FORMAT, strict=False)
    # 'POINT (x y)' by stripping and splitting, the values of POINT_RE on the export's text in
    # about a tenth of the time of two str.extract calls (1 M rows: 0.08 s against 0.96 s);
    # text without the prefix and suffix, or whose parts are not numbers, is null
    xy = (pl.col("coreData_position").str.strip_prefix("POINT (").str.strip_suffix(")")
          .str.split_exact(" ", 1))
    parts = [getattr(ts.dt, name)().cast(getattr(pl, f"Int{bits}")).alias(name)
             for name, bits in PARTS]
    return (
        pl.scan_csv(path, schema_overrides={c: types[t] for c, t in COLUMN_TYPES.items()},
                    ignore_errors=True)
        .select(list(COLUMN_TYPES))
        .drop_nulls()
        .with_columns(xy.struct.field("field_0").cast(pl.Float64, strict=False).alias("x_pos"),
                      xy.struct.field("field_1").cast(pl.Float64, strict=False).alias("y_pos"),
                      pl.col(ID).str.to_integer(base=16, strict=False))
        .drop("coreData_position")
        .drop_nulls([ID, "x_pos", "y_pos"])  # malformed POINT or ID: a bad line
        .filter(2.0 * R * hav.sqrt().arcsin() <= radius_m)
        .with_columns(((pl.col("x_pos") - center_lon) * (math.pi / 180.0) * math.cos(lat0) * R)
                      .alias("x_pos"),
                      ((pl.col("y_pos") - center_lat) * (math.pi / 180.0) * R).alias("y_pos"),
                      *parts, (ts.dt.hour() >= 12).cast(pl.Int8).alias("pm"))
        .drop_nulls(["month"])  # a timestamp that does not parse: a bad line
    )


def run_polars(spec: dict, stages: dict) -> dict:
    """The job in polars: two lazy scans of the CSV (unique IDs, then the whole job) and
    ``sink_parquet`` on the streaming engine. Fills ``stages`` (seconds)."""
    pl = _polars()
    t = time.perf_counter()
    lf = polars_cleaned(spec["path"], center_lat=spec["center_lat"],
                        center_lon=spec["center_lon"], radius_m=spec["radius_m"])
    # pass 1: projection pushdown reads only what the filter and the ID need
    ids = _polars_collect(lf.select(pl.col(ID).unique()))[ID].to_numpy()
    attackers = exact_attackers(ids, ratio=spec["ratio"], seed=spec["seed"])
    now = time.perf_counter()
    stages["pass 1: unique IDs + split"] = now - t
    t = now

    lo, hi = float(spec["min_dist"]), float(spec["max_dist"])
    h = pl.col(ID).hash(int(spec["seed"]))  # UInt64: low half -> angle, high half -> distance
    two32 = pl.lit(1 << 32, dtype=pl.UInt64)
    angle = (h % two32).cast(pl.Float64) * (2.0 * math.pi / 2.0**32)
    dist = lo + (h // two32).cast(pl.Float64) * ((hi - lo) / 2.0**32)
    att = pl.col("isAttacker") == 1
    # a plain list: polars 1.x deprecates is_in with a Series of the column's own type
    out = (lf.with_columns(pl.col(ID).is_in(attackers.tolist()).cast(pl.Int8)
                           .alias("isAttacker"))
           .with_columns(pl.when(att).then(pl.col("x_pos") + dist * angle.cos())
                         .otherwise(pl.col("x_pos")).alias("x_pos"),
                         pl.when(att).then(pl.col("y_pos") + dist * angle.sin())
                         .otherwise(pl.col("y_pos")).alias("y_pos")))
    os.makedirs(spec["out_dir"], exist_ok=True)
    path = os.path.join(spec["out_dir"], "part-0.parquet")
    # snappy as blockops and DuckDB write (polars' default zstd costs more CPU); row order is
    # not part of this job's result, so the sink need not keep it
    out.sink_parquet(path, compression="snappy", maintain_order=False)
    stages["pass 2: job + sink_parquet"] = time.perf_counter() - t
    return {"ids": int(ids.size), "attacker_ids": int(attackers.size),
            "rows_out": _parquet_rows(path), "polars": pl.__version__}


def _parquet_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


# --------------------------------------------------------------------------- DuckDB

def _duckdb():
    try:
        import duckdb
    except ImportError as exc:
        raise PeerNotAvailable(f"duckdb is not installed: {exc}") from exc
    return duckdb


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def duckdb_cleaned_sql(path: str, *, center_lat: float, center_lon: float,
                       radius_m: float) -> str:
    """Steps 1-3 as one DuckDB ``SELECT`` (columns in the blockops output's order)."""
    types = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE"}
    cols = "{" + ", ".join(f"{_sql_str(c)}: {_sql_str(types[t])}"
                           for c, t in COLUMN_TYPES.items()) + "}"
    R = EARTH_RADIUS_M
    lat0 = math.radians(center_lat)
    parts = ", ".join(f"{name}(ts)::{'SMALLINT' if bits == 16 else 'TINYINT'} AS {name}"
                      for name, bits in PARTS)
    return f"""
WITH raw AS (
    SELECT * FROM read_csv({_sql_str(path)}, header = true, delim = ',', quote = '"',
                           columns = {cols}, ignore_errors = true)
), parsed AS (
    SELECT * EXCLUDE (coreData_position, coreData_id),
           TRY_CAST('0x' || coreData_id AS BIGINT) AS coreData_id,
           -- 'POINT (x y)' by slicing and split_part: the values of POINT_RE on the
           -- export's text in about a fifth of the time of regexp_extract (RE2 per row);
           -- text not of the form 'POINT (% %)', or whose first two parts are not
           -- numbers, is NULL: the row is dropped as malformed
           CASE WHEN coreData_position LIKE 'POINT (% %)'
                THEN TRY_CAST(split_part(coreData_position[8:-2], ' ', 1) AS DOUBLE)
                END AS x_pos,
           CASE WHEN coreData_position LIKE 'POINT (% %)'
                THEN TRY_CAST(split_part(coreData_position[8:-2], ' ', 2) AS DOUBLE)
                END AS y_pos,
           try_strptime(metadata_generatedAt, {_sql_str(TS_FORMAT)}) AS ts
    FROM raw
    WHERE COLUMNS(*) IS NOT NULL  -- dropna over the 19 columns
)
SELECT metadata_generatedAt, metadata_recordType, metadata_serialId_streamId,
       metadata_serialId_bundleSize, metadata_serialId_bundleId, metadata_serialId_recordId,
       metadata_serialId_serialNumber, metadata_receivedAt, coreData_id, coreData_secMark,
       coreData_position_lat, coreData_position_long, coreData_accuracy_semiMajor,
       coreData_accuracy_semiMinor, coreData_elevation, coreData_accelset_accelYaw,
       coreData_speed, coreData_heading,
       {R!r} * radians(x_pos - {center_lon!r}) * {math.cos(lat0)!r} AS x_pos,
       {R!r} * radians(y_pos - {center_lat!r}) AS y_pos,
       {parts}, (hour(ts) >= 12)::TINYINT AS pm
FROM parsed
WHERE coreData_id IS NOT NULL AND x_pos IS NOT NULL AND y_pos IS NOT NULL AND ts IS NOT NULL
  AND 2 * {R!r} * asin(sqrt(pow(sin((radians(y_pos) - {lat0!r}) / 2), 2)
        + {math.cos(lat0)!r} * cos(radians(y_pos))
          * pow(sin((radians(x_pos) - {math.radians(center_lon)!r}) / 2), 2))) <= {radius_m!r}
"""


def run_duckdb(spec: dict, stages: dict) -> dict:
    """The job in DuckDB: ``read_csv`` + SQL, the unique IDs in a first query, the attacker
    list registered as a table, ``COPY (...) TO`` Parquet. Fills ``stages`` (seconds)."""
    duckdb = _duckdb()
    import pyarrow as pa

    con = duckdb.connect()  # in-memory database, DuckDB's default threads and memory limit
    # DuckDB's performance guide: without insertion order, COPY streams in parallel and holds
    # less in memory; the order of rows is not part of this job's result
    con.execute("SET preserve_insertion_order = false")
    cleaned = duckdb_cleaned_sql(spec["path"], center_lat=spec["center_lat"],
                                 center_lon=spec["center_lon"], radius_m=spec["radius_m"])
    t = time.perf_counter()
    ids = con.execute(f"SELECT DISTINCT {ID} FROM ({cleaned})").fetchnumpy()[ID]
    attackers = exact_attackers(ids, ratio=spec["ratio"], seed=spec["seed"])
    con.register("attackers", pa.table({"id": pa.array(attackers, pa.int64())}))
    now = time.perf_counter()
    stages["pass 1: unique IDs + split"] = now - t
    t = now

    lo, hi, seed = float(spec["min_dist"]), float(spec["max_dist"]), int(spec["seed"])
    angle = f"(hash({ID}, {seed}) % 4294967296)::DOUBLE * {2.0 * math.pi / 2.0**32!r}"
    dist = f"({lo!r} + (hash({ID}, {seed}) >> 32)::DOUBLE * {(hi - lo) / 2.0**32!r})"
    os.makedirs(spec["out_dir"], exist_ok=True)
    path = os.path.join(spec["out_dir"], "part-0.parquet")
    con.execute(f"""
COPY (
    WITH labelled AS (
        SELECT *, ({ID} IN (SELECT id FROM attackers))::TINYINT AS isAttacker
        FROM ({cleaned})
    )
    SELECT * REPLACE (
        CASE WHEN isAttacker = 1 THEN x_pos + {dist} * cos({angle}) ELSE x_pos END AS x_pos,
        CASE WHEN isAttacker = 1 THEN y_pos + {dist} * sin({angle}) ELSE y_pos END AS y_pos)
    FROM labelled
) TO {_sql_str(path)} (FORMAT parquet)""")
    stages["pass 2: job + COPY TO parquet"] = time.perf_counter() - t
    con.close()
    return {"ids": int(ids.size), "attacker_ids": int(attackers.size),
            "rows_out": _parquet_rows(path), "duckdb": duckdb.__version__}


#: side name -> runner(spec, stages) -> result dict
PEERS: dict[str, Any] = {"polars": run_polars, "duckdb": run_duckdb}
