"""The pipeline on Dask: one task per CSV partition does clean -> filter -> attack -> write
(:func:`blockops.v2x._tasks.run_part`, shared with the Ray engine).

Global decisions are made before the write tasks, each in one cheap pass: the unique vehicle IDs
("exact" attackers, IDs only) and the donor pool (swap attack, bounded). Each write task returns
its row counts, so the result accounts for every row like the local engine does.
"""
from __future__ import annotations

import os
import uuid

from . import ops
from ._tasks import run_part as _job, worker_peaks
from .pipeline import (PipelineConfig, PipelineResult, _prepare_output, _remove_tmp,
                       _write_manifest, reader_options, stage_clean_filter)


def _cleaned(df, cfg):
    return stage_clean_filter(df, cfg, 1)


def _cluster_kwargs(cfg: PipelineConfig) -> dict:
    """LocalCluster arguments: :func:`blockops.resources.plan`'s, or [engine] n_workers
    single-threaded workers sharing the same budget. ``memory_limit`` is per worker (as
    LocalCluster reads it) and already the budget's share: dividing it by the worker count
    again gave each of 4 workers 0.5 GiB of an 8 GiB budget. [engine] memory_limit, when
    given, is that per-worker limit instead (the nanny pauses a worker at 80 % of it and
    restarts it at 95 %; its tasks are then retried on the others)."""
    from ..resources import plan

    n = cfg["engine"]["n_workers"]
    p = plan(memory_budget=None)
    kw = p.local_cluster_kwargs(n_workers=int(n), threads_per_worker=1) if n else \
        p.local_cluster_kwargs()
    limit = cfg.worker_memory_limit()
    if limit is not None:
        kw["memory_limit"] = limit
    return kw


def _client(cfg: PipelineConfig):
    from distributed import Client, LocalCluster

    eng = cfg["engine"]
    if eng["address"]:
        return Client(eng["address"]), None
    cluster = LocalCluster(dashboard_address=None, **_cluster_kwargs(cfg))
    return Client(cluster), cluster


def _compute_with_progress(client, jobs) -> tuple:
    """``dask.compute(*jobs)`` on the cluster with a ``tqdm.auto`` bar of the parts written
    (a widget in a notebook), in the order they finish."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    futures = client.compute(jobs)
    with tqdm(total=len(futures), unit="part", desc="v2x (dask)") as bar:
        for _ in as_completed(futures):
            bar.update(1)
    return tuple(client.gather(futures))


def run(cfg: PipelineConfig, *, progress: bool = False) -> PipelineResult:
    import time

    import dask

    from .. import dask as bdask

    res = PipelineResult(engine="dask")
    ro = reader_options(cfg)
    from ..io.csv import _resolve_sources

    # (blockops.dask numbers rows globally for every input, local or remote, plain or
    # compressed, so row-keyed draws are the local engine's)
    srcs = _resolve_sources(cfg["input"]["path"], ro["compression"], ro["storage_options"])
    out_dir, ofs, opath = _prepare_output(cfg, res)
    t = time.perf_counter()
    client, cluster = _client(cfg)
    res.stage_seconds["start cluster"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        raw = bdask.read_csv(cfg["input"]["path"], blocksize=cfg.blocksize(),
                             on_bad_lines=cfg["input"]["on_bad_lines"], **reader_options(cfg))
        a = cfg["attackers"]
        attackers, pool = None, None
        need_clean = a["method"] == "exact" or cfg["attack"]["kind"] == "positional_swap_rand"
        if need_clean:
            cleaned = raw.map_partitions(_cleaned, cfg, meta=_cleaned(raw._meta, cfg))
            if a["method"] == "exact":
                ids = bdask.unique_ids(cleaned)
                attackers = ops.select_attackers(ids, ratio=a["ratio"], seed=a["seed"])
                res.n_ids = len(ids)
            if cfg["attack"]["kind"] == "positional_swap_rand":
                pool = bdask.donor_pool(cleaned, size=cfg["attack"]["pool"],
                                        seed=cfg.attack_seed)
                res.pool_bytes = pool.nbytes
        res.stage_seconds["global pass"] = time.perf_counter() - t
        t = time.perf_counter()
        parts = raw.to_delayed()
        names = [f"part-{i:05d}.parquet" for i in range(len(parts))]
        # The attacker IDs and the donor pool (4 MB by default) as one graph key each: a value
        # passed straight to dask.delayed is copied into every task, so thousands of tasks
        # would each ship it; as a key, each worker fetches it once and keeps it
        run_id = uuid.uuid4().hex
        att_d = dask.delayed(attackers, name=f"v2x-attackers-{run_id}")
        pool_d = dask.delayed(pool, name=f"v2x-pool-{run_id}")
        jobs = [dask.delayed(_job)(p, cfg, att_d, pool_d,
                                   os.path.join(out_dir, n) if ofs is None else n)
                for n, p in zip(names, parts)]
        counts = (_compute_with_progress(client, jobs) if progress
                  else dask.compute(*jobs))
        res.stage_seconds["read+clean+attack+write"] = time.perf_counter() - t
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
            if ofs is None:
                # our workers are gone: what a killed (or, on Ctrl-C, closed) worker was writing
                _remove_tmp(out_dir)
    rows_read = sum(c["rows_read"] for c in counts)
    # Bad lines are dropped inside the partitions; the reader's planning scan counted every
    # row (the last division is the last row number), so the difference is what was skipped.
    last = raw.divisions[-1] if raw.known_divisions else None
    res.rows_in = int(last) + 1 if last is not None and rows_read else rows_read
    res.rows_skipped = res.rows_in - rows_read
    res.rows_dropped_na = sum(c.get("dropped_na", 0) for c in counts)
    res.rows_filtered_out = sum(c.get("filtered_out", 0) for c in counts)
    res.rows_out = sum(c["rows_out"] for c in counts)
    res.attacker_rows = sum(c["attacker_rows"] for c in counts)
    res.parts = len(counts)
    res.bytes_in = sum(s.size or 0 for s in srcs)
    from .pipeline import Pipeline

    res.worker_peak_rss = worker_peaks(counts)
    res.n_ids, res.n_attackers = Pipeline._id_counts(out_dir if ofs is None else opath, ofs)
    if ofs is None:
        # every task has finished: a temporary file now is a dead attempt's (a worker killed
        # while writing; its task was retried elsewhere), also on a cluster given by address
        _remove_tmp(out_dir)
    res.check()
    _write_manifest(out_dir if ofs is None else opath, [(c["path"], c["rows_out"]) for c in counts],
                    res, fs=ofs)
    return res


