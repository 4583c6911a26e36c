"""The connected-vehicle pipeline as a bounded-memory job: read -> clean -> filter -> attackers
-> attack -> Parquet (-> classifiers), configured from TOML.

Local engine ("local", the default): blocks of :class:`blockops.io.CsvBlockReader` flow through
the operators one at a time. When a step needs the whole data set first (the "exact" attacker
split needs every vehicle ID that survives cleaning and filtering; the swap attack needs a donor
pool drawn over all rows) the run has two passes: pass 1 cleans and filters each block into a
staged part and keeps only the IDs (and the bounded donor pool); pass 2 streams the staged
parts through the attack. Staged parts stay in memory up to ``[input] stage_memory`` and spill
to disk (Arrow IPC) beyond it; the blocks are planned in the rest of ``memory_budget``. The CSV
is parsed once and memory stays at a few blocks plus the staging budget plus the IDs.

Dask engine ("dask"): the same operators through :mod:`blockops.dask`, on a scheduler address
or a ``LocalCluster`` built from :func:`blockops.resources.plan`. Ray engine ("ray"): Ray tasks
over the same row-aligned byte ranges, on ``ray.init(num_cpus=n_workers)`` or a Ray address.
All engines give the same rows and values, bit for bit (randomness is keyed on the global row
number and the vehicle ID; the cluster engines' tasks are in :mod:`blockops.v2x._tasks`).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import glob
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _compat, _config, _core
from .. import geo as _geo
from . import _spill, ops

# ----------------------------------------------------------------------------- config

_SCHEMA: dict[str, dict[str, Any]] = {
    "input": {"path": None, "blocksize": None, "memory_budget": "1GiB", "stage_memory": "auto",
              "on_bad_lines": "skip", "n_threads": None, "compression": "infer",
              "storage_options": None},
    "clean": {"columns": None, "dropna": True, "timestamps": True},
    "filter": {"kind": "none", "center_lat": None, "center_lon": None, "radius_m": None,
               "earth_radius_m": _geo.EARTH_RADIUS_M, "max_dist": None, "start": None,
               "end": None},
    "project": {"origin_lat": None, "origin_lon": None, "earth_radius_m": _geo.EARTH_RADIUS_M},
    "attackers": {"ratio": 0.3, "seed": 42, "method": "exact"},
    "attack": {"kind": "none", "coords": "xy", "seed": None, "min_dist": None, "max_dist": None,
               "direction_deg": None, "distance_m": None, "origin": None, "pool": None},
    "output": {"dir": None, "overwrite": True, "storage_options": None},
    "classifier": {"feature_set": "xy_elev", "test_size": 0.2, "seed": 42,
                   "models": ["RandomForest", "DecisionTree", "KNeighbors"], "results": None,
                   "max_train_rows": 1_000_000, "dtype": "float32"},
    "engine": {"kind": "local", "address": None, "n_workers": None, "memory_limit": None},
}
_ENGINES = ("local", "dask", "ray")
_REQUIRED = {"input": ["path"], "output": ["dir"]}
#: [input] stage_memory = "auto" keeps staged parts in memory up to memory_budget / 8 (128 MiB
#: of the default 1 GiB): at 1 M BSM rows the staged frames take ~110 MiB (~230 bytes a row
#: after the radius filter), so a run of that size never touches the disk between its passes,
#: while the blocks keep 7/8 of the budget (67 instead of 76 MiB blocks on 2 CPUs). A quarter
#: raised the peak RSS of larger runs and bought no speed (benchmarks/RESULTS.md): past 1 M rows
#: nearly every part spills either way.
STAGE_MEMORY_AUTO_DIVISOR = 8
_FILTERS = ("none", "radius", "xy_range")


@dataclass
class PipelineConfig:
    """A validated pipeline configuration (see ``docs/v2x.md`` for every key).

    Sections: ``input`` (path/URL/glob/list, blocksize, memory_budget, stage_memory,
    on_bad_lines, n_threads, compression, storage_options), ``clean``, ``filter``,
    ``project``, ``attackers``, ``attack``, ``output`` (Parquet directory), optional
    ``classifier`` and ``engine``. Unknown sections or keys are errors (typos must not be
    silently ignored).
    """

    sections: dict[str, dict[str, Any]]
    has_classifier: bool = False
    has_project: bool = False
    source: str = "<dict>"

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.sections[name]

    @classmethod
    def from_toml(cls, path) -> "PipelineConfig":
        tomllib = _compat.toml_module()
        with open(path, "rb") as f:
            try:
                d = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise ValueError(f"{path}: invalid TOML: {e}") from None
        cfg = cls.from_dict(d, source=str(path))
        base = os.path.dirname(os.path.abspath(path))
        # relative paths in a config file are relative to the file, as users expect
        cfg._resolve_paths(base)
        return cfg

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "<dict>") -> "PipelineConfig":
        if not isinstance(d, dict):
            raise TypeError(f"{source}: config must be a dict, got {type(d).__name__}")
        unknown = sorted(set(d) - set(_SCHEMA))
        if unknown:
            raise ValueError(f"{source}: unknown section(s) {unknown}; known: {sorted(_SCHEMA)}")
        secs: dict[str, dict[str, Any]] = {}
        for name, defaults in _SCHEMA.items():
            given = d.get(name, {})
            if not isinstance(given, dict):
                raise ValueError(f"{source}: [{name}] must be a table, got {given!r}")
            bad = sorted(set(given) - set(defaults))
            if bad:
                raise ValueError(f"{source}: unknown key(s) {bad} in [{name}]; "
                                 f"known: {sorted(defaults)}")
            sec = copy.deepcopy(defaults)
            sec.update(given)
            for req in _REQUIRED.get(name, []):
                if sec.get(req) in (None, "", []):
                    raise ValueError(f"{source}: [{name}] {req} is required")
            secs[name] = sec
        cfg = cls(secs, has_classifier="classifier" in d, has_project="project" in d,
                  source=source)
        cfg._validate()
        return cfg

    def _resolve_paths(self, base: str) -> None:
        def res(p):
            from ..io._csv_sources import is_url

            return p if os.path.isabs(p) or is_url(p) else os.path.join(base, p)

        inp = self["input"]["path"]
        self["input"]["path"] = [res(p) for p in inp] if isinstance(inp, list) else res(inp)
        self["output"]["dir"] = res(self["output"]["dir"])
        if self["classifier"]["results"]:
            self["classifier"]["results"] = res(self["classifier"]["results"])

    def _validate(self) -> None:
        src = self.source
        f = self["filter"]
        if f["kind"] not in _FILTERS:
            raise ValueError(f"{src}: [filter] kind must be one of {_FILTERS}, not {f['kind']!r}")
        if f["kind"] == "radius":
            miss = [k for k in ("center_lat", "center_lon", "radius_m") if f[k] is None]
            if miss:
                raise ValueError(f"{src}: [filter] kind='radius' needs {miss}")
        if f["kind"] == "xy_range":
            if f["max_dist"] is None:
                raise ValueError(f"{src}: [filter] kind='xy_range' needs max_dist")
            if not self.has_project:
                raise ValueError(f"{src}: [filter] kind='xy_range' needs a [project] section "
                                 "(x/y in metres about an origin)")
        if self.has_project:
            p = self["project"]
            if p["origin_lat"] is None or p["origin_lon"] is None:
                raise ValueError(f"{src}: [project] needs origin_lat and origin_lon")
        for sec in ("filter", "project"):
            er = self[sec]["earth_radius_m"]
            if isinstance(er, bool) or not isinstance(er, (int, float)) or \
                    not (0 < er < float("inf")):
                raise ValueError(f"{src}: [{sec}] earth_radius_m must be a positive number of "
                                 f"metres, got {er!r}")
        a = self["attack"]
        if a["kind"] != "none" and a["kind"] not in ops.ATTACKS:
            raise ValueError(f"{src}: [attack] kind must be 'none' or one of "
                             f"{sorted(ops.ATTACKS)}, not {a['kind']!r}")
        if a["coords"] == "xy" and a["kind"] not in ("none", "positional_swap_rand") \
                and not self.has_project:
            raise ValueError(f"{src}: [attack] coords='xy' moves x/y in metres: add a "
                             "[project] section, or use coords='latlon'")
        if self["attackers"]["method"] not in ("exact", "hash"):
            raise ValueError(f"{src}: [attackers] method must be 'exact' or 'hash'")
        eng = self["engine"]
        if eng["kind"] not in _ENGINES:
            raise ValueError(f"{src}: [engine] kind must be one of {_ENGINES}, not "
                             f"{eng['kind']!r}")
        n = eng["n_workers"]
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                              or n < 1):
            raise ValueError(f"{src}: [engine] n_workers must be a positive integer, not {n!r}")
        self.worker_memory_limit()  # a ValueError naming the value
        from ..io._csv_sources import compression_of

        compression_of("", _compression(self["input"]))  # a ValueError naming the values
        so = self["input"]["storage_options"]
        if so is not None and not isinstance(so, dict):
            raise ValueError(f"{src}: [input] storage_options must be a table, not {so!r}")
        so = self["output"]["storage_options"]
        if so is not None and not isinstance(so, dict):
            raise ValueError(f"{src}: [output] storage_options must be a table, not {so!r}")
        if self["input"]["on_bad_lines"] not in ("error", "skip", "warn"):
            raise ValueError(f"{src}: [input] on_bad_lines must be error, skip or warn")
        self._stage_memory_setting()  # checks the size and that it leaves room for the blocks
        c = self["classifier"]
        if self.has_classifier and not (0 < float(c["test_size"]) < 1):
            raise ValueError(f"{src}: [classifier] test_size must be in (0, 1)")
        self.attack_kwargs()  # checks parameter names early

    def worker_memory_limit(self) -> int | None:
        """The per-worker memory limit of the cluster engines, ``[engine] memory_limit``.

        Returns
        -------
        int or None
            Bytes (``"2GiB"``, ``"512MB"`` and plain integers are accepted), or None when not
            set (or ``"auto"``): the engine's default, which on Dask is
            :func:`blockops.resources.plan`'s share of the memory per worker and on Ray no
            reservation.

        Raises
        ------
        ValueError
            For a size that does not parse or is not positive.
        """
        from ..io.csv import parse_size

        v = self["engine"]["memory_limit"]
        if v is None or (isinstance(v, str) and v.strip().lower() == "auto"):
            return None
        n = parse_size(v, f"{self.source}: [engine] memory_limit")
        if n <= 0:
            raise ValueError(f"{self.source}: [engine] memory_limit must be positive, not {v!r}")
        return n

    def attack_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the configured attack function (only those it takes)."""
        a = self["attack"]
        if a["kind"] == "none":
            return {}
        import inspect

        params = inspect.signature(ops.ATTACKS[a["kind"]]).parameters
        kw = {k: v for k, v in a.items() if k not in ("kind", "pool") and v is not None}
        extra = sorted(k for k in kw if k not in params)
        if extra:
            raise ValueError(f"{self.source}: [attack] {a['kind']} does not take {extra}")
        if "origin" in kw:
            kw["origin"] = tuple(kw["origin"])
        elif "origin" in params and a["coords"] == "latlon":
            f = self["filter"]
            if f["center_lat"] is not None:  # default origin: the filter's centre
                kw["origin"] = (f["center_lat"], f["center_lon"])
        return kw

    @property
    def attack_seed(self) -> int:
        """[attack] seed, else the attack functions' default (42)."""
        s = self["attack"]["seed"]
        return 42 if s is None else int(s)

    def _memory_budget(self) -> int:
        from ..io.csv import parse_size

        return parse_size(self["input"]["memory_budget"], "[input] memory_budget")

    def _stage_memory_setting(self) -> int:
        """[input] stage_memory in bytes as configured ("auto": an eighth of memory_budget;
        0: always spill), whether or not this run stages."""
        from ..io.csv import parse_size

        v = self["input"]["stage_memory"]
        budget = self._memory_budget()
        if v is None or (isinstance(v, str) and v.strip().lower() == "auto"):
            return budget // STAGE_MEMORY_AUTO_DIVISOR
        if (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v == 0) or \
                (isinstance(v, str) and v.strip() == "0"):
            return 0
        n = parse_size(v, f"{self.source}: [input] stage_memory")
        if n >= budget:
            raise ValueError(f"{self.source}: [input] stage_memory={v!r} ({n:,} bytes) must be "
                             f"below memory_budget ({budget:,} bytes): the blocks are planned "
                             "in what staging leaves of the budget")
        return n

    def stage_memory(self) -> int:
        """Bytes of staged parts the local engine keeps in memory between its two passes
        (beyond them parts spill to disk): [input] stage_memory when the run stages (two
        passes on the local engine), else 0."""
        if not self.needs_two_passes or self["engine"]["kind"] != "local":
            return 0
        return self._stage_memory_setting()

    def blocksize(self) -> int:
        """[input] blocksize, else the block size :func:`blockops.resources.plan` gives for
        [input] memory_budget (default 1 GiB: slots x block x expansion fits in it) minus
        :meth:`stage_memory`: staged parts held in memory come out of the same budget, so
        planned block heap + staged bytes still fit in memory_budget."""
        from ..io.csv import parse_size
        from ..resources import plan
        from ..synth import bsm_row_bytes_estimate
        from .._errors import BlockopsError

        inp = self["input"]
        if inp["blocksize"] is not None:
            return parse_size(inp["blocksize"], "[input] blocksize")
        budget, stage = self._memory_budget(), self.stage_memory()
        try:
            return plan(memory_budget=budget - stage,
                        row_bytes=bsm_row_bytes_estimate()).block_size
        except BlockopsError as e:
            if not stage:
                raise
            raise BlockopsError(f"{self.source}: [input] memory_budget {budget:,} bytes minus "
                                f"stage_memory {stage:,} bytes leaves too little for the "
                                f"blocks (lower stage_memory or raise the budget): {e}") from None

    @property
    def needs_two_passes(self) -> bool:
        return (self["attackers"]["method"] == "exact" or
                self["attack"]["kind"] == "positional_swap_rand")


# ----------------------------------------------------------------------------- stages

#: Column types of the export (DOMAIN.md): nullable ints for the ids and secMark, float64 for
#: the numeric coreData fields. Fixed rather than inferred, so a missing value in a later block
#: is a dropped row (dropna), as in the original, not a bad line of an inferred int column.
BSM_DTYPES: dict[str, str] = {
    "metadata_serialId_bundleSize": "Int64", "metadata_serialId_bundleId": "Int64",
    "metadata_serialId_recordId": "Int64", "metadata_serialId_serialNumber": "Int64",
    "coreData_secMark": "Int64",
    **{c: "float64" for c in (
        "coreData_position_lat", "coreData_position_long", "coreData_accuracy_semiMajor",
        "coreData_accuracy_semiMinor", "coreData_elevation", "coreData_accelset_accelYaw",
        "coreData_speed", "coreData_heading")},
    **{c: "str" for c in (
        "metadata_generatedAt", "metadata_recordType", "metadata_serialId_streamId",
        "metadata_receivedAt", "coreData_id")},
}


def _compression(inp: dict):
    """[input] compression: TOML has no None, so "none" reads files as they are."""
    c = inp["compression"]
    return None if c == "none" else c


def reader_options(cfg: PipelineConfig) -> dict[str, Any]:
    """Columns and dtypes handed to the CSV reader: POINT parsed while reading (a malformed one
    is a bad line with file and line), the export's known types (:data:`BSM_DTYPES`), IDs and
    timestamps kept as text for the operators (a missing ID must be a dropped row, as in the
    original, not a bad line)."""
    cols = list(cfg["clean"]["columns"] or ops.DEFAULT_COLUMNS)
    dtypes: dict[str, str] = {c: BSM_DTYPES[c] for c in cols if c in BSM_DTYPES}
    if ops.POSITION in cols:
        dtypes[ops.POSITION] = "wkt_point:x_pos,y_pos"
    inp = cfg["input"]
    return {"columns": cols, "dtypes": dtypes, "compression": _compression(inp),
            "storage_options": inp["storage_options"]}


def _rows_with_na(df: pd.DataFrame) -> np.ndarray:
    """``df.isna().any(axis=1)`` as a bool array, without a frame of masks: a column's mask is
    computed only if it can hold a missing value (an Arrow column with a null count of 0, an
    integer or bool NumPy column cannot), and ORed into one row mask."""
    rows = np.zeros(len(df), bool)
    for _, s in df.items():
        dt = s.dtype
        if isinstance(dt, np.dtype):
            if dt.kind in "iub":
                continue
            m = np.isnan(s.to_numpy()) if dt.kind == "f" else s.isna().to_numpy()
        else:
            pa_arr = getattr(s.array, "_pa_array", None)  # Arrow-backed (string) columns
            if pa_arr is not None and pa_arr.null_count == 0:
                continue
            m = s.isna().to_numpy(bool)
        rows |= m
    return rows


def _clean_radius_one_take(df: pd.DataFrame, cfg: PipelineConfig, n_threads):
    """clean + hex_to_int + filter_radius with one row selection instead of two.

    The operators in sequence copy the block twice (dropna keeps ~99% of it, then the radius
    filter ~half of that). Here the missing-value mask and the radius mask (positions already
    converted by the reader, NaN outside) are combined and the rows are taken once. The IDs are
    converted on exactly the rows that ``hex_to_int`` saw in the sequence (all rows without a
    missing value), so a bad ID raises the same error. Returns (frame, rows after dropna)."""
    c, f = cfg["clean"], cfg["filter"]
    out = ops.clean(df, columns=c["columns"], dropna=False, n_threads=n_threads)
    n = len(out)
    keep = ~_rows_with_na(out) if c["dropna"] and n else np.ones(n, bool)
    all_kept = bool(keep.all())
    ids = None
    if ops.ID in out.columns and out[ops.ID].dtype.kind not in "iu":
        # every row converted (no copy of the kept rows' text first); only the kept rows'
        # failures count, and the first one raises hex_to_int's own error for those rows
        ids, status = ops.hex_to_int_status(out[ops.ID], n_threads=n_threads)
        if (status.any() if all_kept else (status[keep] != 0).any()):
            ops.hex_to_int(out[ops.ID] if all_kept else out[ops.ID][keep], n_threads=n_threads)
            raise AssertionError("hex_to_int accepted what its kernel refused")  # unreachable
        if not all_kept:
            ids = ids[keep]
    inside = _geo.within_radius(lat=out["y_pos"].to_numpy(np.float64),
                                lon=out["x_pos"].to_numpy(np.float64),
                                center_lat=f["center_lat"], center_lon=f["center_lon"],
                                radius_m=f["radius_m"], earth_radius_m=f["earth_radius_m"],
                                n_threads=n_threads)
    rows = inside if all_kept else keep & inside
    if ids is None:
        return out[rows], int(keep.sum())
    loc = out.columns.get_loc(ops.ID)  # the text IDs are not taken, their int64s replace them
    out = out.drop(columns=[ops.ID])[rows]
    out.insert(loc, ops.ID, ids[inside if all_kept else inside[keep]])
    return out, int(keep.sum())


def stage_clean_filter(df: pd.DataFrame, cfg: PipelineConfig, n_threads=None,
                       counts: dict | None = None) -> pd.DataFrame:
    """Clean, convert IDs, timestamp parts, filters and projection for one block."""
    c, f = cfg["clean"], cfg["filter"]
    n0 = len(df)
    if (f["kind"] == "radius" and f["start"] is None and f["end"] is None
            and "x_pos" in df.columns and "y_pos" in df.columns):
        out, n1 = _clean_radius_one_take(df, cfg, n_threads)
    else:
        out = ops.clean(df, columns=c["columns"], dropna=c["dropna"], n_threads=n_threads)
        n1 = len(out)
        if ops.ID in out.columns and out[ops.ID].dtype.kind not in "iu":
            out[ops.ID] = ops.hex_to_int(out[ops.ID], n_threads=n_threads)
        if f["start"] is not None or f["end"] is not None:
            out = ops.filter_date_range(out, start=f["start"], end=f["end"],
                                        n_threads=n_threads)
        if f["kind"] == "radius":
            out = ops.filter_radius(out, center_lat=f["center_lat"], center_lon=f["center_lon"],
                                    radius_m=f["radius_m"], earth_radius_m=f["earth_radius_m"],
                                    n_threads=n_threads)
    if cfg.has_project:
        p = cfg["project"]
        out = ops.project_xy(out, origin_lat=p["origin_lat"], origin_lon=p["origin_lon"],
                             earth_radius_m=p["earth_radius_m"], n_threads=n_threads)
    if f["kind"] == "xy_range":
        out = ops.filter_xy_range(out, max_dist=f["max_dist"])
    if c["timestamps"]:
        out = ops.timestamp_parts(out, n_threads=n_threads)
    if counts is not None:
        counts["dropped_na"] = counts.get("dropped_na", 0) + n0 - n1
        counts["filtered_out"] = counts.get("filtered_out", 0) + n1 - len(out)
    return out


def stage_attack(df: pd.DataFrame, cfg: PipelineConfig, *, attackers=None, pool=None,
                 n_threads=None) -> pd.DataFrame:
    """isAttacker and the configured attack for one block."""
    a = cfg["attackers"]
    out = ops.add_attackers(df, attackers, ratio=a["ratio"], seed=a["seed"], method=a["method"],
                            n_threads=n_threads)
    kind = cfg["attack"]["kind"]
    if kind == "none":
        return out
    kw = cfg.attack_kwargs()
    if kind == "positional_swap_rand":
        kw["pool"] = pool if pool is not None else cfg["attack"]["pool"]
    return ops.ATTACKS[kind](out, n_threads=n_threads, **kw)


def test_mask(row_keys: np.ndarray, *, test_size: float, seed: int) -> np.ndarray:
    """Rows in the test split: a keyed hash of the row number, so the split does not depend on
    partitioning or order (the original split 80/20 with a global shuffle)."""
    u = _core.rng_uniform(np.asarray(row_keys, dtype=np.int64).view(np.uint64), seed=seed,
                          stream=ops.STREAMS["train_test_split"])
    return u < test_size


# ----------------------------------------------------------------------------- result

@dataclass
class PipelineResult:
    """What a run did: row counts (rows_in = rows_out + skipped + dropped + filtered), attackers,
    per-stage seconds, throughput and peak RSS.

    Staging between the two passes of the local engine: ``stage_memory`` is the budget,
    ``stage_bytes`` the most bytes of staged parts held in memory at once (pandas
    ``memory_usage(deep=True)`` of the frames), ``stage_parts`` how many parts stayed in
    memory, ``spilled_parts`` / ``spilled_bytes`` how many went to disk and their file bytes.

    Cluster engines (Dask, Ray): ``worker_peak_rss`` maps each worker process (``host:pid``)
    to its peak RSS in bytes (``VmHWM``, read by its tasks in that process); empty on the
    local engine. ``peak_rss_bytes`` is always the driver's (this process's) peak.
    """

    rows_in: int = 0
    rows_skipped: int = 0
    rows_dropped_na: int = 0
    rows_filtered_out: int = 0
    rows_out: int = 0
    n_ids: int = 0
    n_attackers: int = 0
    attacker_rows: int = 0
    bytes_in: int = 0
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)
    peak_rss_bytes: int = 0
    output_dir: str = ""
    parts: int = 0
    pool_bytes: int = 0
    stage_memory: int = 0
    stage_bytes: int = 0
    stage_parts: int = 0
    spilled_parts: int = 0
    spilled_bytes: int = 0
    engine: str = "local"
    worker_peak_rss: dict = field(default_factory=dict)
    metrics: Any = None
    results_path: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else float("nan")

    def check(self) -> None:
        """Raise if the counts do not add up (nothing may be lost silently)."""
        total = self.rows_out + self.rows_skipped + self.rows_dropped_na + self.rows_filtered_out
        if total != self.rows_in:
            raise AssertionError(f"row accounting: in {self.rows_in} != out {self.rows_out} + "
                                 f"skipped {self.rows_skipped} + dropped {self.rows_dropped_na} "
                                 f"+ filtered {self.rows_filtered_out}")

    def _time_line(self, mb: float) -> str:
        """Wall time, and throughput of the streaming part: the classifier stage trains on the
        output after the data has gone through, so it is left out of rows/s and MB/s."""
        t = self.seconds - self.stage_seconds.get("classify", 0.0)
        line = f"time              {self.seconds:.2f} s"
        if t > 0:
            line += (f", {self.rows_in / t / 1e6:.2f} M rows/s"
                     + (f", {mb / t:.0f} MB/s" if mb else "")
                     + (f" (without the classifier's {self.seconds - t:.2f} s)"
                        if t < self.seconds else ""))
        return line

    def summary(self) -> str:
        mb = self.bytes_in / 1e6
        lines = [
            f"engine            {self.engine}",
            f"rows in           {self.rows_in:,}" + (f"  ({mb:,.0f} MB)" if mb else ""),
            f"  skipped (bad)   {self.rows_skipped:,}",
            f"  dropped (nulls) {self.rows_dropped_na:,}",
            f"  filtered out    {self.rows_filtered_out:,}",
            f"rows out          {self.rows_out:,}  -> {self.output_dir} ({self.parts} parts)",
            f"vehicles          {self.n_ids:,}, attackers {self.n_attackers:,} "
            f"({self.attacker_rows:,} rows)",
            self._time_line(mb),
            "stages            " + ", ".join(f"{k} {v:.2f} s"
                                             for k, v in self.stage_seconds.items()),
            f"peak RSS          {self.peak_rss_bytes / 2**20:,.0f} MiB",
        ]
        if self.worker_peak_rss:
            lines.append(f"worker peak RSS   {self._workers_text()}")
        if self.pool_bytes:
            lines.append(f"donor pool        {self.pool_bytes / 2**20:.1f} MiB")
        if self.stage_parts or self.spilled_parts:
            lines.append(f"staging           {self.stage_parts} parts in memory "
                         f"({self.stage_bytes / 2**20:,.1f} MiB of {self.stage_memory / 2**20:,.0f}"
                         f" MiB), {self.spilled_parts} spilled to disk "
                         f"({self.spilled_bytes / 2**20:,.1f} MiB)")
        if self.results_path:
            lines.append(f"classifiers       {self.results_path}")
        return "\n".join(lines)

    def _workers_text(self) -> str:
        w = self.worker_peak_rss
        return (f"max {max(w.values()) / 2**20:,.0f} MiB over {len(w)} worker process(es): "
                + ", ".join(f"{k} {v / 2**20:,.0f} MiB" for k, v in w.items()))

    def _repr_html_(self) -> str:
        """Rows as a table (in = out + skipped + dropped + filtered), stage times as bars."""
        from .. import _html

        mb = self.bytes_in / 1e6
        t = self.seconds - self.stage_seconds.get("classify", 0.0)
        rows = [("engine", self.engine),
                ("rows in", f"{self.rows_in:,}" + (f" ({mb:,.0f} MB)" if mb else "")),
                ("skipped (bad)", f"{self.rows_skipped:,}"),
                ("dropped (nulls)", f"{self.rows_dropped_na:,}"),
                ("filtered out", f"{self.rows_filtered_out:,}"),
                ("rows out", f"{self.rows_out:,} in {self.parts} parts"),
                ("vehicles / attackers", f"{self.n_ids:,} / {self.n_attackers:,} "
                 f"({self.attacker_rows:,} rows)"),
                ("time", f"{self.seconds:.2f} s"
                 + (f", {mb / t:,.0f} MB/s" if mb and t > 0 else "")),
                ("peak RSS", f"{self.peak_rss_bytes / 2**20:,.0f} MiB"),
                *([("worker peak RSS", self._workers_text())] if self.worker_peak_rss else []),
                ("output", self.output_dir)]
        return (_html.table(rows, "blockops pipeline run")
                + _html.bars(list(self.stage_seconds.items()), "s", "stage times"))

    def __str__(self) -> str:
        return self.summary()


# ----------------------------------------------------------------------------- engine

class _Timer:
    def __init__(self, acc: dict):
        self.acc = acc

    def __call__(self, name: str):
        timer = self

        class _T:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                timer.acc[name] = timer.acc.get(name, 0.0) + time.perf_counter() - self.t0

        return _T()


def _dictionary_columns(table) -> list[str]:
    """Columns worth dictionary-encoding in Parquet: text, booleans, integers of 16 bits or
    less and the vehicle ID (few distinct values). Float and row-number columns have nearly as
    many distinct values as rows: trying a dictionary on them made writing an output part 4-5x
    slower (0.35 s vs 0.07 s CPU for 138 K rows) and the file larger (16.7 vs 13.9 MB)."""
    import pyarrow as pa

    def small(t):
        return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t)
                or pa.types.is_dictionary(t) or (pa.types.is_integer(t) and t.bit_width <= 16))

    return [f.name for f in table.schema if small(f.type) or f.name == ops.ID]


def _write_part(df, path: str, fs=None) -> None:
    """One output part: a frame, or its Arrow table as :class:`_ArrowAttack` makes it.
    ``nthreads=1``: this runs on a writer thread already, and by default pyarrow starts a
    thread pool for the conversion on every call (104 K rows, busy 2-CPU machine, median of
    15: 9-10 ms by default, 4.4-7 ms with one thread). ``fs``: an fsspec
    file system (an object store): the part is streamed to it and appears whole when the
    upload completes (an object store's write is all or nothing)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = df if isinstance(df, pa.Table) else \
        pa.Table.from_pandas(df.rename_axis("row"), preserve_index=True, nthreads=1)
    if fs is not None:
        with fs.open(path, "wb") as f:
            pq.write_table(table, f, use_dictionary=_dictionary_columns(table))
        return
    _atomic_write(path, lambda tmp: pq.write_table(table, tmp,
                                                   use_dictionary=_dictionary_columns(table)),
                  "output part")


#: Written last, once every part of a run is whole (docs/v2x.md): a directory without it holds
#: an interrupted or failed run. Readers of the directory as a dataset (pyarrow, pandas) skip
#: names starting with "_" or ".", so the manifest and temporary parts never read as data.
MANIFEST = "_manifest.json"


def _tmp_name(path: str) -> str:
    """Where ``path`` is written before its rename: the same directory (a rename within one file
    system is atomic), hidden (a leading "."), the pid (whose write a leftover was) and a random
    token (a retried Dask task never shares the name with the attempt it replaces)."""
    d, name = os.path.split(path)
    return os.path.join(d, f".{name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def _atomic_write(path: str, write, what: str) -> None:
    """``write(tmp)`` then rename tmp to ``path``: Ctrl-C, a killed process or worker, or a full
    disk never leave a half-written file under the final name (SIGKILL during a direct write
    left truncated parts). A failed write removes its temporary file and raises an OSError
    naming ``path`` (pyarrow's messages name no file)."""
    tmp = _tmp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(e, OSError) and e.filename is None:
            if e.errno:  # OSError(errno, ...) gives the matching subclass (PermissionError...)
                raise OSError(e.errno, f"{os.strerror(e.errno)} writing {what}", path) from e
            raise OSError(f"writing {what} {path!r}: {e}") from e
        raise


def _remove_tmp(d: str) -> None:
    """Temporary parts and manifests a killed writer left (they never carry a final name)."""
    for pattern in (".part-*.parquet.*.tmp", f".{MANIFEST}.*.tmp"):
        for p in glob.glob(os.path.join(glob.escape(d), pattern)):
            with contextlib.suppress(FileNotFoundError):
                os.remove(p)


def _write_manifest(out_dir: str, parts: list[tuple[str, int]], res: "PipelineResult",
                    fs=None) -> None:
    """The run is complete: list its parts (file, rows) and counts, written last: atomically
    (temporary name, rename) on a local disk; on an object store (``fs``) as one upload, which
    appears whole or not at all (there is no rename there)."""
    doc = {"format": 1, "engine": res.engine, "rows_in": res.rows_in, "rows_out": res.rows_out,
           "parts": [{"file": os.path.basename(p), "rows": int(n)} for p, n in parts]}
    data = (json.dumps(doc, indent=1) + "\n").encode()
    if fs is not None:
        fs.pipe(f"{out_dir}/{MANIFEST}", data)
        return

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    _atomic_write(os.path.join(out_dir, MANIFEST), write, "manifest")


def output_parts(out_dir: str | os.PathLike, *, storage_options: dict | None = None) -> list[str]:
    """The part files of a finished pipeline output, in order, as its manifest lists them.

    ``out_dir`` may be an fsspec URL (an ``[output] dir`` such as ``s3://bucket/run``, with
    its ``storage_options``); the parts are then URLs too.

    Raises
    ------
    FileNotFoundError
        When ``out_dir`` has no manifest (the run that wrote it was interrupted or failed, or
        is still running: its parts are incomplete) or a listed part is missing.
    """
    from ..io._csv_sources import is_url, url_fs

    out_dir = os.fspath(out_dir)
    fs, path = url_fs(out_dir, storage_options) if is_url(out_dir) else (None, out_dir)
    paths = _manifest_parts(out_dir, fs, path.rstrip("/") if fs is not None else path)
    if fs is None:
        return paths
    return [f"{out_dir.rstrip('/')}/{p.rsplit('/', 1)[-1]}" for p in paths]  # as it was given


def _manifest_parts(name: str, fs, out_dir: str) -> list[str]:
    """The parts a finished output's manifest lists: paths in ``fs`` (None: the local disk),
    each checked to exist. ``name``: the output as the user gave it, for messages."""
    try:
        if fs is None:
            with open(os.path.join(out_dir, MANIFEST)) as f:
                doc = json.load(f)
        else:
            doc = json.loads(fs.cat_file(f"{out_dir}/{MANIFEST}"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{name!r} has no {MANIFEST}: the output is incomplete (the "
                                "run that wrote it was interrupted, failed or is still "
                                "running)") from None
    if fs is None:
        paths = [os.path.join(out_dir, p["file"]) for p in doc["parts"]]
        missing = [p for p in paths if not os.path.exists(p)]
    else:
        paths = [f"{out_dir}/{p['file']}" for p in doc["parts"]]
        there = set(fs.glob(f"{out_dir}/part-*.parquet")) if paths else set()
        missing = [p for p in paths if p not in there and not fs.exists(p)]
    if missing:
        raise FileNotFoundError(f"{name!r}: {len(missing)} part(s) listed in {MANIFEST} are "
                                f"missing, e.g. {missing[0]!r}")
    return paths


def _output_fs(cfg) -> tuple:
    """(fsspec file system or None, directory path in it) of [output] dir."""
    from ..io._csv_sources import is_url, url_fs

    d = cfg["output"]["dir"]
    if not is_url(str(d)):
        return None, d
    fs, path = url_fs(d, cfg["output"]["storage_options"])
    return fs, path.rstrip("/")



def _prepare_remote_dir(fs, d: str, overwrite: bool) -> None:
    old = fs.glob(f"{d}/part-*.parquet")
    if old and not overwrite:
        raise FileExistsError(f"output dir {d!r} holds {len(old)} parts; set "
                              "[output] overwrite = true to replace them")
    if fs.exists(f"{d}/{MANIFEST}"):
        fs.rm(f"{d}/{MANIFEST}")  # first: no manifest may name a mix of old and new parts
    for p in old:
        fs.rm(p)
    fs.makedirs(d, exist_ok=True)


def _parts_bar(progress: bool, total: int, desc: str):
    """A ``tqdm.auto`` bar of ``total`` parts (closed on exit, an error included), or an object
    whose ``update`` does nothing when ``progress`` is off."""
    if not progress:
        class _NoBar:
            def update(self, n=1):
                pass

        return contextlib.nullcontext(_NoBar())
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="part", desc=desc)


class _ReadAhead:
    """Iterates ``it`` on a background thread, one item ahead of the consumer.

    The reader parses block k+1 (in C, without the GIL) while the main thread cleans, filters
    and stages block k, whose pandas steps leave a core idle. At most one parsed block waits,
    so memory holds one extra block. An exception of ``it`` is raised by the ``next`` that
    would have returned its item; ``close`` stops the thread at its next item."""

    _END = object()

    def __init__(self, it):
        import queue
        import threading

        self._q: "queue.Queue" = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(it,), daemon=True,
                                   name="blockops-v2x-read-ahead")
        self._t.start()

    def _put(self, item) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, it) -> None:
        try:
            while not self._stop.is_set():  # a closed consumer: no block parsed for nobody
                item = next(it, self._END)
                if not self._put((item, None)) or item is self._END:
                    return
                del item
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((None, exc))

    def __iter__(self):
        return self

    def __next__(self):
        item, exc = self._q.get()
        if exc is not None:
            self._stop.set()
            raise exc
        if item is self._END:
            self._stop.set()
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        import queue

        try:  # free a waiting put
            self._q.get_nowait()
        except queue.Empty:
            pass
        self._t.join()


def _write_and_release(write, df: pd.DataFrame, path: str) -> None:
    """``write(df, path)``, then the Arrow pool gives this thread's freed memory back: pyarrow's
    default pool (mimalloc) keeps a heap per thread, and each writer thread held on to what its
    writes had freed, which with pass 2's two pending writes showed in the run's peak RSS
    (benchmarks/RESULTS.md, session 12)."""
    import pyarrow as pa

    write(df, path)
    del df
    pa.default_memory_pool().release_unused()


class _BackgroundWriter:
    """Writes parts on background threads, overlapping the main thread's work.

    ``submit`` first waits (oldest first) until fewer than ``max_pending`` writes are pending,
    so memory holds at most ``max_pending`` extra blocks; a write error is raised at the next
    submit that waits for it, or at ``wait`` / ``close``. Parts are separate files, so the
    output does not depend on how many threads write them."""

    def __init__(self, n_threads: int = 1):
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        self.n_threads = max(1, int(n_threads))
        self._pool = ThreadPoolExecutor(self.n_threads, thread_name_prefix="blockops-v2x-writer")
        self._pending = deque()

    def _wait_oldest(self) -> None:
        self._pending.popleft().result()

    def wait(self) -> None:
        while self._pending:
            self._wait_oldest()

    def submit(self, df: pd.DataFrame, path: str, write=None, *, max_pending: int = 1) -> None:
        while len(self._pending) >= max(1, min(max_pending, self.n_threads)):
            self._wait_oldest()
        self._pending.append(self._pool.submit(_write_and_release, write or _write_part, df,
                                               path))

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _write_stage(df: pd.DataFrame, path: str,
                 buffers: _spill.AlignedBuffers | None = None) -> None:
    """Staging between the passes: uncompressed Arrow IPC, the cheapest format to write and
    read back (measured: about 5x faster than Parquet for this frame), written past the page
    cache where the file system allows (:mod:`._spill`); deleted after use."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=True, nthreads=1)
    buffers = buffers or _spill.AlignedBuffers()
    _atomic_write(path, lambda tmp: _spill.write_ipc(table, tmp, buffers), "staged part")


def _stage_frame(table) -> pd.DataFrame:
    """A spilled part's table as a frame: the columns left as separate blocks, so the numeric
    columns are views of the mapped bytes instead of copies consolidated into new blocks
    (about half the time of a read and ``to_pandas``)."""
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _frame_bytes(df: pd.DataFrame) -> int:
    """Bytes a staged frame holds: pandas' deep memory usage (Arrow buffers of the text
    columns, values and masks of the nullable ints, the index). Staged frames come out of a
    row selection, so they own their buffers rather than pinning the reader's block."""
    return int(df.memory_usage(index=True, deep=True).sum())


class _ArrowAttack:
    """Pass 2 on a spilled part as the Arrow table it was spilled as, without the whole part
    going through pandas and back (``to_pandas`` after the read, ``from_pandas`` before the
    Parquet write: about 10 ms of a 123 K row part's ~90 ms of CPU in pass 2). The attack
    runs on a frame of the columns it reads (the ID, the position, the elevation, a configured
    row key, and the index); the columns it writes replace the table's, and ``isAttacker`` is
    added, in the order and with the schema (pandas metadata included) that ``from_pandas`` of
    the attacked frame gives, taken from the attack of the part's first zero rows. The output
    is the same, byte for byte, as through pandas (a test spills every part, another none).
    A part whose columns would not come out with those types is attacked through pandas."""

    #: what an attack may change: the position, and the elevation (positional_swap_rand)
    _WRITES = ("x_pos", "y_pos", ops.ELEVATION)

    def __init__(self, cfg: PipelineConfig, attackers, pool, n_threads):
        self.cfg, self.attackers, self.pool, self.nt = cfg, attackers, pool, n_threads
        self._schemas: tuple | None = None  # (input schema, output schema, index column)

    def _attack(self, df: pd.DataFrame) -> pd.DataFrame:
        return stage_attack(df, self.cfg, attackers=self.attackers, pool=self.pool,
                            n_threads=self.nt)

    def _plan(self, t):
        import pyarrow as pa

        if self._schemas is not None and self._schemas[0].equals(t.schema, check_metadata=True):
            return self._schemas[1:]
        meta = t.schema.pandas_metadata or {}
        idx = meta.get("index_columns") or []
        if len(idx) != 1 or not isinstance(idx[0], str):  # a range index: not stored
            out = None
        else:
            like = self._attack(t.slice(0, 0).to_pandas()).rename_axis("row")
            out = (pa.Schema.from_pandas(like, preserve_index=True), idx[0])
        self._schemas = (t.schema, *(out or (None, None)))
        return self._schemas[1:]

    def __call__(self, t):
        """``(table to write, frame of the attacked columns)``; the frame has the part's
        rows, its ID and ``isAttacker`` columns (what the run counts)."""
        import pyarrow as pa

        schema, index = self._plan(t)
        if schema is None:
            return self._through_pandas(t)
        row_key = self.cfg["attack"].get("row_key")
        reads = [c for c in dict.fromkeys((ops.ID, *self._WRITES, row_key))
                 if c and c in t.column_names]
        # split_blocks: each column its own block, the numeric ones views of the table's
        # buffers, not copied into one 2-D block that the attack only reads (it copies what
        # it writes)
        small = self._attack(t.select([*reads, index]).to_pandas(split_blocks=True))
        arrays = []
        for f in schema:
            if f.name == "row":
                a = t.column(index)
            elif f.name in t.column_names and f.name not in self._WRITES:
                a = t.column(f.name)
            else:
                v = small[f.name].to_numpy()
                # from_pandas: NaN is null, as Table.from_pandas makes it
                a = pa.array(v, type=f.type, from_pandas=True) if v.dtype.kind in "iuf" \
                    else None
            if a is None or not a.type.equals(f.type):
                return self._through_pandas(t)
            arrays.append(a)
        return pa.Table.from_arrays(arrays, schema=schema), small

    def _through_pandas(self, t):
        df = self._attack(_stage_frame(t))
        return df, df


class _Stage:
    """Parts of pass 1 kept for pass 2: in memory as they are (no serialization) while the
    bytes held stay within ``budget``, beyond it spilled to ``directory`` as uncompressed Arrow
    IPC (:func:`_write_stage`) by the background writer.

    The decision is per part, first come first kept: a part that does not fit spills, a later
    smaller one may still stay. Pass 2 takes every part once, in order; taking an in-memory
    part drops the stage's reference (memory falls as pass 2 goes), taking a spilled one reads
    and deletes its file. The output does not depend on which parts spilled."""

    def __init__(self, budget: int, directory: str, writer: _BackgroundWriter):
        self.budget, self.directory, self.writer = int(budget), directory, writer
        self._parts: list = []  # (frame, bytes) in memory, (path, 0) spilled, None taken
        self.held = 0           # bytes of in-memory parts not taken yet
        self.peak = 0           # most bytes held at once
        self.kept = 0
        self.spilled = 0
        self.spilled_bytes = 0  # file bytes, counted when pass 2 reads them
        self.buffers = _spill.AlignedBuffers()  # the spill writes' aligned memory
        self._reader = None  # the thread reading the next spilled part in pass 2
        self._ahead = None   # (part number, future of its frame)

    def __len__(self) -> int:
        return len(self._parts)

    def put(self, df: pd.DataFrame) -> None:
        n = _frame_bytes(df)
        # budget 0 spills every part, as documented: an empty part can take 0 bytes (pandas 2
        # gives an empty filtered frame an Index of 0 bytes, pandas 3 a RangeIndex of 132)
        if self.budget > 0 and self.held + n <= self.budget:
            self._parts.append((df, n))
            self.held += n
            self.peak = max(self.peak, self.held)
            self.kept += 1
            return
        if not self.spilled:
            os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"part-{len(self._parts):05d}.arrow")
        self.writer.submit(df, path, functools.partial(_write_stage, buffers=self.buffers))
        self._parts.append((path, 0))
        self.spilled += 1

    def written(self) -> None:
        """Pass 1 is over and its writes have finished: the spill buffers go back."""
        self.buffers.close()

    def _spilled(self, j: int) -> str | None:
        item = self._parts[j] if 0 <= j < len(self._parts) else None
        return item[0] if item is not None and isinstance(item[0], str) else None

    def take(self, j: int, as_table: bool = False):
        """Part ``j``: a frame, or (``as_table``, a spilled part) the Arrow table it was
        spilled as. The next spilled part is brought into the page cache on a thread meanwhile
        (:func:`._spill.page_in`): written past the page cache, it is on the disk."""
        path = self._spilled(j)
        ahead, self._ahead = self._ahead, None
        nxt = self._spilled(j + 1)
        if nxt is not None:
            if self._reader is None:
                from concurrent.futures import ThreadPoolExecutor

                self._reader = ThreadPoolExecutor(1, thread_name_prefix="blockops-v2x-stage")
            self._ahead = (j + 1, self._reader.submit(_spill.page_in, nxt))
        item, n = self._parts[j]
        self._parts[j] = None
        if path is not None:  # the writer must have finished it (wait before pass 2)
            size = ahead[1].result() if ahead is not None and ahead[0] == j else \
                _spill.page_in(path)
            self.spilled_bytes += size
            table = _spill.read_ipc(path)
            # the mapping keeps the bytes (POSIX); a mapped file cannot be deleted on Windows:
            # there it goes with the stage directory
            with contextlib.suppress(OSError):
                os.remove(path)
            return table if as_table else _stage_frame(table)
        self.held -= n
        return item

    def close(self) -> None:
        """The spill buffers and the read-ahead thread go (after pass 2, or on an error)."""
        self.buffers.close()
        reader, self._reader, self._ahead = self._reader, None, None
        if reader is not None:
            reader.shutdown(wait=True)


def _prepare_output(cfg, res) -> tuple:
    """Make the [output] dir ready (local or a URL) for every engine; sets ``res.output_dir``.
    Returns ``(out_dir, fs, fs_path)`` (``fs`` None for a local dir)."""
    out_dir = cfg["output"]["dir"]
    ofs, opath = _output_fs(cfg)
    if ofs is None:
        _prepare_dir(out_dir, cfg["output"]["overwrite"])
    else:
        _prepare_remote_dir(ofs, opath, cfg["output"]["overwrite"])
    res.output_dir = out_dir
    return out_dir, ofs, opath


def _prepare_dir(d: str, overwrite: bool) -> None:
    if os.path.exists(d):
        if not os.path.isdir(d):
            raise FileExistsError(f"output dir {d!r} exists and is not a directory")
        old = glob.glob(os.path.join(glob.escape(d), "part-*.parquet"))
        if old and not overwrite:
            raise FileExistsError(f"output dir {d!r} holds {len(old)} parts; set "
                                  "[output] overwrite = true to replace them")
        # the manifest goes first: from here on the directory no longer claims to be complete
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(d, MANIFEST))
        for p in old:
            os.remove(p)
        _remove_tmp(d)  # an interrupted or killed run's temporary parts
    os.makedirs(d, exist_ok=True)


class _OutputIds:
    """Distinct vehicle IDs and attacker IDs of the written rows, gathered part by part with
    the Arrow kernels ``_id_counts`` uses (a missing ID counts as one value there and here).
    The run used to read the two columns back from the Parquet output after writing it.
    Keeps at most 64 arrays of distinct IDs before merging them, like the pass-1 ID list."""

    def __init__(self):
        self._ids: list = []
        self._att: list = []

    @staticmethod
    def _push(lst: list, values) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        lst.append(pc.unique(values))
        if len(lst) > 64:
            lst[:] = [pc.unique(pa.chunked_array(lst))]

    def add(self, ids: pd.Series, attacker: np.ndarray) -> None:
        import pyarrow as pa

        if len(ids):
            a = pa.array(ids)
            self._push(self._ids, a)
            self._push(self._att, a.filter(pa.array(attacker)))

    def counts(self) -> tuple[int, int]:
        """(vehicles, attacker vehicles)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        def n(lst):
            return len(pc.unique(pa.chunked_array(lst))) if lst else 0

        return n(self._ids), n(self._att)


class Pipeline:
    """Run a :class:`PipelineConfig`.

    Examples
    --------
    >>> cfg = PipelineConfig.from_toml("run.toml")            # doctest: +SKIP
    >>> res = Pipeline(cfg).run(progress=True)                 # doctest: +SKIP
    >>> print(res.summary())                                   # doctest: +SKIP
    """

    def __init__(self, config: PipelineConfig | dict | str | os.PathLike):
        if isinstance(config, (str, os.PathLike)):
            config = PipelineConfig.from_toml(config)
        elif isinstance(config, dict):
            config = PipelineConfig.from_dict(config)
        self.config = config

    def run(self, *, progress: bool = False) -> PipelineResult:
        from .._monitor import MemoryMonitor

        with MemoryMonitor(interval=0.1) as mon:
            t0 = time.perf_counter()
            if self.config["engine"]["kind"] == "dask":
                from . import _dask_engine

                res = _dask_engine.run(self.config, progress=progress)
            elif self.config["engine"]["kind"] == "ray":
                from . import _ray_engine

                res = _ray_engine.run(self.config, progress=progress)
            else:
                res = self._run_local(progress)
            if self.config.has_classifier:
                with _Timer(res.stage_seconds)("classify"):
                    self._classify(res)
            res.seconds = time.perf_counter() - t0
        res.peak_rss_bytes = int(mon.peak)
        res.check()
        return res

    # -- local engine ---------------------------------------------------------------
    def _reader(self, source, progress, **kw):
        from ..io import CsvBlockReader

        inp = self.config["input"]
        return CsvBlockReader(source, blocksize=self.config.blocksize(),
                              on_bad_lines=inp["on_bad_lines"], n_threads=inp["n_threads"],
                              progress=progress, **kw)

    def _run_local(self, progress: bool) -> PipelineResult:
        cfg = self.config
        res = PipelineResult(engine="local")
        timer = _Timer(res.stage_seconds)
        nt = cfg["input"]["n_threads"]
        out_dir, ofs, opath = _prepare_output(cfg, res)
        two = cfg.needs_two_passes
        if ofs is None:
            stage_dir = os.path.join(out_dir, "_stage") if two else None
        else:  # spilled parts stay on local disk, beside nothing of the output
            stage_dir = os.path.join(tempfile.gettempdir(),
                                     f"blockops-stage-{os.getpid()}-{id(self):x}") if two else None
        if stage_dir:  # a crashed run's leftovers; created again only when a part spills
            shutil.rmtree(stage_dir, ignore_errors=True)
        written: list[tuple[str, int]] = []  # (part, rows) for the manifest

        def submit(df, k, **kw):
            name = f"part-{k:05d}.parquet"
            written.append((name, len(df)))
            if ofs is None:
                writer.submit(df, os.path.join(out_dir, name), **kw)
            else:
                writer.submit(df, f"{opath}/{name}", functools.partial(_write_part, fs=ofs),
                              **kw)
        ids_seen: list[np.ndarray] = []
        pool = None
        if cfg["attack"]["kind"] == "positional_swap_rand":
            size = cfg["attack"]["pool"] or ops.DEFAULT_POOL_SIZE
            pool = ops.DonorPool.empty(size, cfg.attack_seed)
        counts: dict = {}
        out_ids = _OutputIds()
        k = 0
        # Pass 2 keeps two writes pending (with two threads): its main thread only reads a part
        # back and attacks it, so one writer left a core idle waiting on Parquet encoding, the
        # bulk of pass 2's CPU (benchmarks/RESULTS.md, session 12). Pass 1 and one-pass runs keep
        # one pending write, as parsing already uses every core.
        writer = _BackgroundWriter(2 if _config.resolve_threads(nt) >= 2 else 1)
        stage = _Stage(cfg.stage_memory(), stage_dir, writer) if two else None
        res.stage_memory = stage.budget if stage is not None else 0
        try:
            # with two passes, two bars that say so: the first one's ETA is not the run's
            bar1 = progress and ("v2x pass 1/2: read, clean, filter" if two else
                                 "v2x: read, clean, filter, attack, write")
            reader = self._reader(cfg["input"]["path"], bar1, **reader_options(cfg))
            with reader, contextlib.closing(_ReadAhead(iter(reader))) as it:
                while True:
                    with timer("read"):
                        block = next(it, None)
                    if block is None:
                        break
                    with timer("clean+filter"):
                        df = stage_clean_filter(block, cfg, nt, counts)
                    del block
                    if two:
                        with timer("ids+pool"):
                            if cfg["attackers"]["method"] == "exact" and len(df):
                                # a hash table (pd.unique), not a sort (np.unique): 0.7 against
                                # 5 ms a part of 123 K rows; sorted once, after pass 1
                                ids_seen.append(pd.unique(df[ops.ID].to_numpy()))
                                if len(ids_seen) > 64:  # bound the list, not just the IDs
                                    ids_seen = [pd.unique(np.concatenate(ids_seen))]
                            if pool is not None and len(df):
                                pool = pool.merge(ops.DonorPool.from_frame(
                                    df, size=pool.size, seed=pool.seed, n_threads=nt))
                        with timer("stage (wait)"):
                            stage.put(df)
                    else:
                        with timer("attack"):
                            df = stage_attack(df, cfg, n_threads=nt)
                            self._count_out(res, df, out_ids)
                        with timer("write (wait)"):
                            submit(df, k)
                    del df  # the stage or the writer holds it now; not alive across next read
                    k += 1
            st = reader.stats
            res.rows_in, res.rows_skipped, res.bytes_in = st.rows_in, st.rows_skipped, \
                st.bytes_read
            res.rows_dropped_na = counts.get("dropped_na", 0)
            res.rows_filtered_out = counts.get("filtered_out", 0)
            if two:
                with timer("stage (wait)"):
                    writer.wait()  # pass 2 reads what pass 1 spilled
                    stage.written()
                attackers = None
                if cfg["attackers"]["method"] == "exact":
                    with timer("ids+pool"):
                        ids = np.unique(np.concatenate(ids_seen)) if ids_seen else \
                            np.empty(0, np.int64)
                        a = cfg["attackers"]
                        attackers = ops.select_attackers(ids, ratio=a["ratio"], seed=a["seed"],
                                                         method="exact")
                if pool is not None:
                    res.pool_bytes = pool.nbytes
                with _parts_bar(progress, k, "v2x pass 2/2: attack, write") as bar2:
                    arrow = _ArrowAttack(cfg, attackers, pool, nt) if os.name == "posix" \
                        else None  # (a mapped file cannot be deleted on Windows)
                    for j in range(k):
                        with timer("stage"):
                            df = stage.take(j, as_table=arrow is not None)
                        with timer("attack"):
                            if isinstance(df, pd.DataFrame):
                                df = stage_attack(df, cfg, attackers=attackers, pool=pool,
                                                  n_threads=nt)
                                self._count_out(res, df, out_ids)
                            else:
                                df, small = arrow(df)
                                self._count_out(res, small, out_ids)
                                del small
                        with timer("write (wait)"):
                            submit(df, j, max_pending=2)
                        del df
                        bar2.update(1)  # part j is written or being written
                res.stage_bytes, res.stage_parts = stage.peak, stage.kept
                res.spilled_parts, res.spilled_bytes = stage.spilled, stage.spilled_bytes
            with timer("write (wait)"):
                writer.wait()
            res.parts = k
            res.check()
            # last: every part is whole now
            _write_manifest(out_dir if ofs is None else opath, written, res, fs=ofs)
        finally:
            # Ctrl-C or an error: the writes under way finish (whole parts, renamed), no
            # manifest is written, so the directory does not claim to be complete
            writer.close()
            if stage is not None:
                stage.close()
            if stage_dir:
                shutil.rmtree(stage_dir, ignore_errors=True)
        res.n_ids, res.n_attackers = out_ids.counts()
        return res

    @staticmethod
    def _count_out(res: PipelineResult, df: pd.DataFrame, out_ids: _OutputIds) -> None:
        res.rows_out += len(df)
        if "isAttacker" in df.columns:
            att = df["isAttacker"].to_numpy() == 1
            res.attacker_rows += int(att.sum())
            if ops.ID in df.columns:
                out_ids.add(df[ops.ID], att)

    @staticmethod
    def _id_counts(out_dir: str, fs=None) -> tuple[int, int]:
        """(vehicles, attacker vehicles) in the output, reading the two columns only (the Dask
        engine's count; the local engine counts the frames it writes). ``fs``: the fsspec
        file system of a URL output (``out_dir`` its path there)."""
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        parts = sorted(glob.glob(os.path.join(out_dir, "part-*.parquet")) if fs is None else
                       fs.glob(f"{out_dir}/part-*.parquet"))
        if not parts:
            return 0, 0
        d = ds.dataset(parts, format="parquet", filesystem=fs)
        if ops.ID not in d.schema.names or "isAttacker" not in d.schema.names:
            return 0, 0
        t = d.to_table(columns=[ops.ID, "isAttacker"])
        ids = t.column(ops.ID)
        att = pc.filter(ids, pc.equal(t.column("isAttacker"), 1))
        return len(pc.unique(ids)), len(pc.unique(att))

    # -- classifier stage -------------------------------------------------------------
    def _classify(self, res: PipelineResult) -> None:
        import pyarrow.dataset as ds

        from . import ml

        c = self.config["classifier"]
        feats = ml.FEATURE_SETS[c["feature_set"]]
        # the parts the manifest lists, on the local disk or (a URL [output] dir) in the store
        ofs, opath = _output_fs(self.config)
        parts = _manifest_parts(res.output_dir, ofs, opath)
        cols = list(dict.fromkeys(["row", *feats, "isAttacker"]))
        t = ds.dataset(parts, format="parquet", filesystem=ofs).to_table(columns=cols)
        df = t.to_pandas()  # pandas metadata restores the "row" index
        if "row" in df.columns:
            df = df.set_index("row")
        cap = c["max_train_rows"]
        if cap and len(df) > cap:  # deterministic sample: the rows with the smallest hash
            pr = _core.rng_u64(df.index.to_numpy(np.int64).view(np.uint64), seed=c["seed"],
                               stream=ops.STREAMS["train_test_split"], counter=1)
            df = df.iloc[np.sort(np.argpartition(pr, cap - 1)[:cap])]
        mask = test_mask(df.index.to_numpy(), test_size=float(c["test_size"]), seed=c["seed"])
        metrics = ml.train_classifiers(df, feature_set=c["feature_set"], test_mask=mask,
                                       models=tuple(c["models"]), dtype=np.dtype(c["dtype"]),
                                       random_state=c["seed"])
        if c["results"]:
            path = c["results"]
        elif ofs is None:
            path = os.path.join(res.output_dir, "classifier_results.csv")
        else:
            path = f"{str(res.output_dir).rstrip('/')}/classifier_results.csv"
        # a URL (the default one beside a URL output, or one given) is written with the
        # output's storage_options, as one upload
        ml.write_results(metrics, path, storage_options=self.config["output"]["storage_options"])
        res.metrics, res.results_path = metrics, path
