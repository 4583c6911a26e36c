"""The pipeline on Ray: Ray tasks over the row-aligned byte ranges the Dask engine uses.

The input is planned once exactly as :func:`blockops.dask.read_csv` plans it (a quote-aware C
scan, on the driver for local files and by Ray tasks for remote ones, finds ranges of about
``blocksize`` bytes that start at a row, with the global row number of their first row; the
column types are fixed once), so every task parses its
range into the frame the Dask engine's partition would hold, indexed by the local engine's row
numbers. Then, as on Dask:

* pass 1 (only when a decision needs every row: "exact" attackers, the swap donor pool): one
  task per range keeps the unique vehicle IDs and the donor pool of its cleaned, filtered rows;
  the driver merges them and chooses the attackers;
* pass 2: one task per range cleans, attacks and writes ``part-NNNNN.parquet``
  (:func:`blockops.v2x._tasks.run_part`).

Plain tasks rather than Ray Data: the job is a map over ranges with one global decision in
between, each range's output is one file, and a task is the unit Ray retries. A worker process
that dies (SIGKILL, the OOM killer, Ray's memory monitor) fails only the task it ran; Ray runs
it again (``max_retries``) and, since a part's name depends only on its range and the part is
renamed into place once whole, the retry rewrites the same whole part. Errors raised by the
task's own code (a bad line with ``on_bad_lines = "error"``) are not retried: they are the
input's fault and would fail again.
"""
from __future__ import annotations

import os
import time

import numpy as np

from . import ops
from ._tasks import ids_and_pool, run_part, worker_peaks
from .pipeline import (PipelineConfig, PipelineResult, _prepare_output, _remove_tmp,
                       _write_manifest, reader_options)

#: Retries of a task whose worker process died (Ray's own default for tasks is 3 too; set
#: here so that the behaviour the docs promise does not depend on Ray's default).
MAX_RETRIES = 3


def _pass1(reader, part, cfg, pool_size):
    return ids_and_pool(reader(part), cfg, pool_size)


def _pass2(reader, part, cfg, attackers, pool, path):
    return run_part(reader(part), cfg, attackers, pool, path)


def _plan_runner(ray, task_opts: dict):
    """``run(calls)`` for the reader's plan: its scan tasks of remote files (a list of
    ``(function, args)``) as Ray tasks, all at once; their results in order."""
    def run(calls):
        fns: dict = {}
        refs = []
        for f, args in calls:
            if f not in fns:
                fns[f] = ray.remote(**task_opts)(f)
            refs.append(fns[f].remote(*args))
        return ray.get(refs)
    return run


def _init_ray(cfg: PipelineConfig):
    """(ray module, whether this run started Ray and must shut it down)."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("[engine] kind = \"ray\" needs Ray: pip install \"blockops[ray]\"") \
            from exc
    if ray.is_initialized():
        return ray, False  # the caller's Ray (a cluster it connected to): use it, leave it up
    eng = cfg["engine"]
    if eng["address"]:
        ray.init(address=eng["address"], log_to_driver=False)
    else:
        from ..resources import cpu_count

        n = int(eng["n_workers"] or cpu_count())
        ray.init(num_cpus=n, include_dashboard=False, log_to_driver=False)
    return ray, True


def _gather(ray, refs: list, progress: bool, desc: str) -> list:
    """``ray.get(refs)`` in order; with ``progress``, a ``tqdm.auto`` bar of tasks done."""
    if not progress:
        return ray.get(refs)
    from tqdm.auto import tqdm

    todo = list(refs)
    with tqdm(total=len(refs), unit="part", desc=desc) as bar:
        while todo:
            done, todo = ray.wait(todo, num_returns=1)
            bar.update(len(done))
    return ray.get(refs)


def run(cfg: PipelineConfig, *, progress: bool = False) -> PipelineResult:
    from ..dask import _CsvPartition, _plan_read
    from ..io.csv import _resolve_sources

    res = PipelineResult(engine="ray")
    ro = reader_options(cfg)
    # (the plan numbers rows globally for every input, local or remote, plain or compressed,
    # so row-keyed draws are the local engine's)
    srcs = _resolve_sources(cfg["input"]["path"], ro["compression"], ro["storage_options"])
    out_dir, ofs, opath = _prepare_output(cfg, res)

    # Ray first: the plan's scan tasks of remote files run on it, where the parts will
    t = time.perf_counter()
    ray, started = _init_ray(cfg)
    res.stage_seconds["start cluster"] = time.perf_counter() - t
    limit = cfg.worker_memory_limit()
    # Ray has no per-process memory cap: [engine] memory_limit is each task's memory
    # reservation, so Ray's scheduler never runs more tasks on a node than fit in its memory
    task_opts: dict = {"num_cpus": 1, "max_retries": MAX_RETRIES, "retry_exceptions": False}
    if limit is not None:
        task_opts["memory"] = limit
    try:
        t = time.perf_counter()
        bs = cfg.blocksize()
        opts = {"on_bad_lines": cfg["input"]["on_bad_lines"], "compression": ro["compression"],
                "storage_options": ro["storage_options"]}
        _, names, specs, parts, total = _plan_read(
            cfg["input"]["path"], bs, ro["columns"], ro["dtypes"], opts,
            run=_plan_runner(ray, {"num_cpus": 1, "max_retries": MAX_RETRIES}))
        # the reader blockops.dask.read_csv gives its partitions, with the same options: each
        # task's frame is the Dask engine's partition (pickles small: names, specs, options)
        reader = _CsvPartition(names, specs, dict(opts, blocksize=max(bs, 1 << 16)))
        res.stage_seconds["plan"] = time.perf_counter() - t

        t = time.perf_counter()
        a = cfg["attackers"]
        attackers, pool, reports = None, None, []
        swap = cfg["attack"]["kind"] == "positional_swap_rand"
        pool_size = (cfg["attack"]["pool"] or ops.DEFAULT_POOL_SIZE) if swap else None
        reader_ref = ray.put(reader)
        cfg_ref = ray.put(cfg)
        if a["method"] == "exact" or swap:
            p1 = ray.remote(**task_opts)(_pass1)
            reports = _gather(ray, [p1.remote(reader_ref, p, cfg_ref, pool_size)
                                    for p in parts], progress, "v2x (ray) pass 1")
            if a["method"] == "exact":
                ids = [r["ids"] for r in reports if r["ids"] is not None and len(r["ids"])]
                ids = np.unique(np.concatenate(ids)) if ids else np.empty(0, np.int64)
                attackers = ops.select_attackers(ids, ratio=a["ratio"], seed=a["seed"])
                res.n_ids = len(ids)
            if swap:
                pool = ops.DonorPool.empty(pool_size, cfg.attack_seed)
                for r in reports:  # merges are exact and order-free: the local engine's pool
                    pool = pool.merge(r["pool"])
                res.pool_bytes = pool.nbytes
            for r in reports:  # the IDs and pools are merged: keep only the worker reports
                r.pop("ids", None)
                r.pop("pool", None)
        res.stage_seconds["global pass"] = time.perf_counter() - t

        t = time.perf_counter()
        p2 = ray.remote(**task_opts)(_pass2)
        att_ref, pool_ref = ray.put(attackers), ray.put(pool)
        names_out = [f"part-{i:05d}.parquet" for i in range(len(parts))]
        refs = [p2.remote(reader_ref, p, cfg_ref, att_ref, pool_ref,
                          os.path.join(out_dir, n) if ofs is None else n)
                for n, p in zip(names_out, parts)]
        counts = _gather(ray, refs, progress, "v2x (ray)")
        res.stage_seconds["read+clean+attack+write"] = time.perf_counter() - t
    finally:
        if started:
            ray.shutdown()
    rows_read = sum(c["rows_read"] for c in counts)
    # bad lines are dropped inside the tasks; the plan counted every row (total), so the
    # difference is what was skipped (as on Dask)
    res.rows_in = int(total) if total is not None and rows_read else rows_read
    res.rows_skipped = res.rows_in - rows_read
    res.rows_dropped_na = sum(c.get("dropped_na", 0) for c in counts)
    res.rows_filtered_out = sum(c.get("filtered_out", 0) for c in counts)
    res.rows_out = sum(c["rows_out"] for c in counts)
    res.attacker_rows = sum(c["attacker_rows"] for c in counts)
    res.parts = len(counts)
    res.bytes_in = sum(s.size or 0 for s in srcs)
    res.worker_peak_rss = worker_peaks(reports + list(counts))
    from .pipeline import Pipeline

    res.n_ids, res.n_attackers = Pipeline._id_counts(out_dir if ofs is None else opath, ofs)
    if ofs is None:
        # every task has finished: a temporary file now is a dead attempt's (a worker killed
        # while writing; its task was retried)
        _remove_tmp(out_dir)
    res.check()
    _write_manifest(out_dir if ofs is None else opath, [(c["path"], c["rows_out"]) for c in counts],
                    res, fs=ofs)
    return res
