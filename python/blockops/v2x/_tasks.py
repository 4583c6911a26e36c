"""What one task of a cluster engine (Dask, Ray) does to one partition of the input.

A partition is one row-aligned byte range of the CSV (:func:`blockops.dask.plan_csv_partitions`),
parsed with the global row number of its first row, so its index is the local engine's row
number and every row-keyed draw is the local engine's. Both engines call the same functions, so
they cannot drift apart: pass 1 (:func:`ids_and_pool`) keeps only the vehicle IDs and the donor
pool of the cleaned, filtered rows; pass 2 (:func:`run_part`) cleans, attacks and writes one
Parquet part.

Each task also reports its worker process and that process's peak RSS (``VmHWM`` of
``/proc/self/status``: the process's own peak over its life so far, unaffected by the driver or
other workers), so a run can say how much memory each worker needed.
"""
from __future__ import annotations

import os
import socket

import numpy as np

from . import ops
from .pipeline import (PipelineConfig, _output_fs, _write_part, stage_attack,
                       stage_clean_filter)


def worker_info() -> dict:
    """``{"worker": "host:pid", "peak_rss": bytes}`` of the process running the task."""
    from ..resources import peak_rss

    return {"worker": f"{socket.gethostname()}:{os.getpid()}", "peak_rss": int(peak_rss())}


def worker_peaks(reports) -> dict[str, int]:
    """Per-worker peak RSS from task reports: the largest ``peak_rss`` each worker reported
    (VmHWM only grows, so that is the peak up to the worker's last task). A worker killed
    before it finished a task reported nothing and is not listed."""
    out: dict[str, int] = {}
    for r in reports:
        w = r.get("worker")
        if w is not None:
            out[w] = max(out.get(w, 0), int(r.get("peak_rss", 0)))
    return dict(sorted(out.items()))


def ids_and_pool(df, cfg: PipelineConfig, pool_size: int | None) -> dict:
    """Pass 1 of a two-pass run on one partition: the sorted unique vehicle IDs of its cleaned,
    filtered rows ("exact" attackers) and its donor pool (swap attack), nothing else."""
    out = stage_clean_filter(df, cfg, 1)
    rep = worker_info()
    rep["ids"] = (np.unique(out[ops.ID].to_numpy()) if cfg["attackers"]["method"] == "exact"
                  else None)
    rep["pool"] = (ops.DonorPool.from_frame(out, size=pool_size, seed=cfg.attack_seed,
                                            n_threads=1) if pool_size else None)
    return rep


def run_part(df, cfg: PipelineConfig, attackers, pool, path: str) -> dict:
    """One partition, start to end: clean -> filter -> attack -> write. Threads = 1: the
    engines run one task per worker CPU.

    The part's name depends only on the partition and its write is atomic (temporary name,
    then rename; on an object store one upload), so a task retried after its worker died
    rewrites the same whole part: no duplicate, no half-written file under a part's name.
    ``path`` may be a part name under a URL output ([output] storage_options): the worker
    opens the file system itself."""
    counts: dict = {"rows_read": len(df), "path": path}
    out = stage_clean_filter(df, cfg, 1, counts)
    out = stage_attack(out, cfg, attackers=attackers, pool=pool, n_threads=1)
    fs, p = _output_fs(cfg)
    if fs is None:
        _write_part(out, path)
    else:
        _write_part(out, f"{p}/{path}", fs=fs)  # path: the part's name
    counts["rows_out"] = len(out)
    counts["attacker_rows"] = int(out["isAttacker"].sum()) if len(out) else 0
    counts.update(worker_info())
    return counts
