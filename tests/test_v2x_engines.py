"""The cluster engines of blockops.v2x.Pipeline (issue 18 section 3): ``[engine] kind = "dask"``
on a ``distributed.LocalCluster`` with 2 worker processes and a per-worker memory limit, and
``kind = "ray"`` on ``ray.init(num_cpus=2)``.

Their output must be the local engine's bit for bit (rows sorted by the global row number,
every column compared by its bytes), with each worker's peak RSS reported, and a worker process
killed with SIGKILL in the middle of a run must change nothing in the output. Runs that can hang
or kill go to a subprocess with a timeout."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from blockops import v2x
from blockops.v2x import pipeline as pl

CENTER = (41.5430216, -106.0831353)
ROWS = 40_000
BLOCK = "128KB"  # ~100 ranges: several tasks per worker, and time to kill one mid-run


@pytest.fixture(scope="module")
def bsm(tmp_path_factory):
    from blockops.synth import write_bsm_csv

    path = tmp_path_factory.mktemp("engines") / "bsm.csv"
    # 2 % of rows with an empty field (dropped), 200 vehicles: ~60 attacker IDs
    write_bsm_csv(path, rows=ROWS, seed=5, vehicles=200, null_fraction=0.02, center=CENTER)
    return path


def _cfg(src, out, *, engine=None, attack="positional_offset_const_per_id_with_random_direction",
         method="exact") -> dict:
    """The issue's job: clean, radius filter, projection, exact attackers, per-ID offset."""
    atk = {"kind": attack, "coords": "xy", "seed": 7}
    if attack == "positional_swap_rand":
        atk["pool"] = 500
    else:
        atk.update(min_dist=25.0, max_dist=250.0)
    d = {
        "input": {"path": str(src), "blocksize": BLOCK},
        "filter": {"kind": "radius", "center_lat": CENTER[0], "center_lon": CENTER[1],
                   "radius_m": 8000.0},
        "project": {"origin_lat": CENTER[0], "origin_lon": CENTER[1]},
        "attackers": {"ratio": 0.3, "seed": 42, "method": method},
        "attack": atk,
        "output": {"dir": str(out)},
    }
    if engine:
        d["engine"] = engine
    return d


def _read(d) -> pd.DataFrame:
    parts = v2x.output_parts(d)  # raises unless the run wrote its manifest
    df = pd.concat([pd.read_parquet(p) for p in parts])
    return df.sort_index(kind="stable")


def _assert_bitwise_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same row numbers, columns (names, order, dtypes) and values, floats by their bits
    (``assert_frame_equal`` would take -0.0 for 0.0 and any NaN for any NaN)."""
    assert got.index.is_unique and want.index.is_unique
    np.testing.assert_array_equal(got.index.to_numpy(), want.index.to_numpy())
    assert list(got.columns) == list(want.columns)
    assert list(got.dtypes.astype(str)) == list(want.dtypes.astype(str))
    for c in want.columns:
        g, w = got[c].to_numpy(), want[c].to_numpy()
        if w.dtype.kind in "fiub":
            assert g.dtype == w.dtype, c
            assert np.array_equal(g.view(f"u{w.dtype.itemsize}"),
                                  w.view(f"u{w.dtype.itemsize}")), c
        else:
            assert g.tolist() == w.tolist(), c


@pytest.fixture(scope="module")
def local_runs(bsm, tmp_path_factory):
    """The local engine's output per attack kind (the reference), computed once."""
    d = tmp_path_factory.mktemp("local")
    out = {}
    for attack in ("positional_offset_const_per_id_with_random_direction",
                   "positional_swap_rand"):
        res = v2x.Pipeline(_cfg(bsm, d / attack, attack=attack)).run()
        out[attack] = (res, _read(res.output_dir))
    return out


def _engine(kind: str) -> dict:
    if kind == "dask":
        pytest.importorskip("distributed")
    else:
        pytest.importorskip("ray")
    # 2 single-threaded workers; a per-worker memory limit far above what a 128 KB range needs
    return {"kind": kind, "n_workers": 2, "memory_limit": "2GiB"}


@pytest.mark.parametrize("attack", ["positional_offset_const_per_id_with_random_direction",
                                    "positional_swap_rand"])
@pytest.mark.parametrize("kind", ["dask", "ray"])
def test_cluster_engine_output_is_the_local_output_bit_for_bit(bsm, tmp_path, local_runs,
                                                              kind, attack, capsys):
    local, want = local_runs[attack]
    assert local.worker_peak_rss == {}  # the local engine has no workers
    assert 0 < local.n_attackers < local.n_ids and 0 < local.attacker_rows < local.rows_out
    assert local.rows_dropped_na > 0 and local.rows_filtered_out > 0
    progress = attack == "positional_swap_rand"
    res = v2x.Pipeline(_cfg(bsm, tmp_path / kind, engine=_engine(kind),
                            attack=attack)).run(progress=progress)
    assert res.engine == kind and res.parts > 10
    if progress:  # the parts' progress bar (tqdm.auto: text outside notebooks)
        err = capsys.readouterr().err
        assert f"v2x ({kind})" in err and f"{res.parts}/{res.parts}" in err
    _assert_bitwise_equal(_read(res.output_dir), want)
    for k in ("rows_in", "rows_out", "rows_skipped", "rows_dropped_na", "rows_filtered_out",
              "attacker_rows", "n_ids", "n_attackers"):
        assert getattr(res, k) == getattr(local, k), k
    # per-worker peak RSS: the worker processes' own VmHWM (not the driver's), each at least
    # an interpreter with pandas loaded, and no more than the 2 workers there were
    w = res.worker_peak_rss
    assert 1 <= len(w) <= 2, w
    assert all(int(k.rsplit(":", 1)[1]) != os.getpid() for k in w), w
    assert all(60 * 2**20 < v < 2 * 2**30 for v in w.values()), w
    assert "worker peak RSS" in res.summary() and "worker peak RSS" in res._repr_html_()


def test_dask_engine_passes_the_per_worker_memory_limit(bsm, tmp_path, monkeypatch):
    """[engine] memory_limit is LocalCluster's memory_limit, which is per worker."""
    distributed = pytest.importorskip("distributed")
    from blockops.v2x import _dask_engine

    seen = {}

    class FakeCluster:
        def __init__(self, **kw):
            seen.update(kw)

    monkeypatch.setattr(distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(distributed, "Client", lambda cluster: ("client", cluster))
    cfg = pl.PipelineConfig.from_dict(_cfg(bsm, tmp_path / "o", engine={
        "kind": "dask", "n_workers": 2, "memory_limit": "1.5GiB"}))
    _dask_engine._client(cfg)
    assert (seen["n_workers"], seen["threads_per_worker"]) == (2, 1)
    assert seen["memory_limit"] == int(1.5 * 2**30)


@pytest.mark.parametrize("engine, msg", [
    ({"kind": "spark"}, r"\[engine\] kind must be one of \('local', 'dask', 'ray'\), not "
                        r"'spark'"),
    ({"kind": "ray", "workers": 2}, r"unknown key\(s\) \['workers'\] in \[engine\]; known: "
                                    r"\['address', 'kind', 'memory_limit', 'n_workers'\]"),
    ({"kind": "dask", "n_workers": 0}, r"\[engine\] n_workers must be a positive integer"),
    ({"kind": "ray", "n_workers": 1.5}, r"\[engine\] n_workers must be a positive integer"),
    ({"kind": "dask", "memory_limit": "lots"}, r"\[engine\] memory_limit"),
    ({"kind": "ray", "memory_limit": -1}, r"\[engine\] memory_limit"),
])
def test_engine_config_errors(tmp_path, engine, msg):
    with pytest.raises(ValueError, match=msg):
        pl.PipelineConfig.from_dict(_cfg(tmp_path / "x.csv", tmp_path / "o", engine=engine))


def test_ray_engine_reads_several_remote_files_like_local(tmp_path):
    """Two files served over HTTP (a Range-serving server on 127.0.0.1): the plan's scan tasks
    and the parts run as Ray tasks by ranged reads, the rows are numbered across both files,
    so the output is the local engine's on the same files, bit for bit."""
    pytest.importorskip("ray")
    pytest.importorskip("aiohttp")
    import http.server
    import threading

    from blockops.synth import write_bsm_csv
    from test_csv_remote import _RangeHandler

    served = tmp_path / "served"
    served.mkdir()
    for k in (1, 2):
        write_bsm_csv(served / f"p{k}.csv", rows=3000, seed=k, vehicles=50, center=CENTER)
    local = v2x.Pipeline(_cfg(served / "p*.csv", tmp_path / "local")).run()

    class Handler(_RangeHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(served), **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}"
        cfg = _cfg(url, tmp_path / "ray", engine={"kind": "ray", "n_workers": 2})
        cfg["input"]["path"] = [f"{url}/p1.csv", f"{url}/p2.csv"]
        res = v2x.Pipeline(cfg).run()
    finally:
        srv.shutdown()
        srv.server_close()
    assert res.parts > 4 and res.rows_in == local.rows_in == 6000
    _assert_bitwise_equal(_read(res.output_dir), _read(local.output_dir))


def test_engine_memory_limit_is_parsed(tmp_path):
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path / "x.csv", tmp_path / "o", engine={
        "kind": "ray", "memory_limit": "512MiB"}))
    assert cfg.worker_memory_limit() == 512 * 2**20
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path / "x.csv", tmp_path / "o"))
    assert cfg.worker_memory_limit() is None


# One worker process is killed with SIGKILL once a few parts are written, preferably while it
# runs a pass-2 task (the pass-1 tasks are done by then). Only processes of this script's own
# tree are candidates: other Ray or Dask instances on the machine are never touched. Dask: the
# nanny restarts the worker and the scheduler retries its tasks; Ray: the task is retried on a
# new worker (max_retries).
KILL = r"""
import glob, json, os, signal, sys, threading, time
from blockops.v2x import Pipeline

def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for tid in os.listdir(f"/proc/{p}/task") if os.path.isdir(f"/proc/{p}/task") else []:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
    return out

def title(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""

def main():
    cfg = json.load(open(sys.argv[1]))
    kind = cfg["engine"]["kind"]
    out = cfg["output"]["dir"]
    killed = {}

    def cmdline(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""

    def busy_workers():
        me = os.getpid()
        if kind == "ray":  # Ray titles a worker process by the task it runs
            return [p for p in tree(me) if title(p) == "ray::_pass2"]
        # Dask: the worker processes are the nannies' spawned interpreters (not the
        # multiprocessing resource tracker); prefer one that is writing a part right now (its
        # pid is in the temporary file's name), as it certainly is mid-task
        workers = [p for p in tree(me) if p != me and "spawn_main" in cmdline(p)]
        t1 = time.monotonic()
        while workers and time.monotonic() - t1 < 1.0:
            for tmp in glob.glob(os.path.join(out, ".part-*.tmp")):
                pid = int(tmp.rsplit(".", 2)[-2].split("-")[0])
                if pid in workers:
                    return [pid]
            time.sleep(0.0005)
        return workers

    def kill():
        t0 = time.monotonic()
        while len(glob.glob(os.path.join(out, "part-*.parquet"))) < 3:
            if time.monotonic() - t0 > 120:
                return
            time.sleep(0.002)
        while time.monotonic() - t0 < 120:
            pids = busy_workers()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.update(pid=pids[0], parts_before=len(glob.glob(
                    os.path.join(out, "part-*.parquet"))))
                return
            time.sleep(0.001)

    th = threading.Thread(target=kill, daemon=True)
    th.start()
    res = Pipeline(cfg).run()
    th.join(10)
    print(json.dumps({"killed": killed, "parts": res.parts, "rows_out": res.rows_out,
                      "workers": res.worker_peak_rss}))

if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("kind", ["dask", "ray"])
def test_worker_killed_mid_run_changes_nothing(bsm, tmp_path, local_runs, kind):
    engine = _engine(kind)
    local, want = local_runs["positional_offset_const_per_id_with_random_direction"]
    out = tmp_path / kind
    (tmp_path / "cfg.json").write_text(json.dumps(_cfg(bsm, out, engine=engine)))
    (tmp_path / "kill.py").write_text(KILL)
    try:
        r = subprocess.run([sys.executable, str(tmp_path / "kill.py"), str(tmp_path / "cfg.json")],
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {kind} run did not finish within 300 s")
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.splitlines()[-1])
    assert got["killed"], "no worker was killed: " + r.stderr[-2000:]
    assert got["parts"] > got["killed"]["parts_before"], "the kill came after the last part"
    assert got["rows_out"] == local.rows_out
    assert not glob.glob(os.path.join(out, ".*")), os.listdir(out)  # no dead attempt's file
    _assert_bitwise_equal(_read(out), want)
