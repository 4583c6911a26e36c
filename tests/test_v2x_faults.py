"""Faults lose nothing: a V2X pipeline run that is interrupted (Ctrl-C, SIGKILL), runs out of
disk or loses a Dask worker leaves either a complete output (every part whole, and the manifest
written last lists them) or a visibly incomplete one (no manifest) in which nothing is
half-written under a part's name; the next run in the same directory cleans up and completes.

Each run that can hang or die goes to a subprocess with a timeout, so a hang fails the test
instead of blocking the suite."""
from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from blockops import v2x

CENTER = (41.25, -105.93)
ROWS = 60_000
BLOCK = "128KB"  # ~130 small parts: a run lasts long enough to be interrupted mid-way
MANIFEST = "_manifest.json"  # written last by a run that completed (docs/v2x.md)

# Runs a pipeline config (JSON) the way a user's script would; an OSError is reported as JSON
# on stdout (exit 3) so the test can check its errno and path, anything else propagates.
RUNNER = r"""
import json, sys
from blockops.v2x import Pipeline
cfg = json.load(open(sys.argv[1]))
print("started", flush=True)
try:
    Pipeline(cfg).run()
except OSError as e:
    print(json.dumps({"type": type(e).__name__, "errno": e.errno, "filename": e.filename,
                      "message": str(e)}), flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def bsm(tmp_path_factory):
    path = tmp_path_factory.mktemp("faults") / "bsm.csv"
    subprocess.run([sys.executable, "-m", "blockops", "synth", "bsm", "--rows", str(ROWS),
                    "--out", str(path), "--no-progress"], check=True, capture_output=True,
                   timeout=120)
    return path


def _cfg(src, out, *, method="hash", **over) -> dict:
    d = {
        "input": {"path": str(src), "blocksize": BLOCK},
        "filter": {"kind": "radius", "center_lat": CENTER[0], "center_lon": CENTER[1],
                   "radius_m": 300_000.0},
        "project": {"origin_lat": CENTER[0], "origin_lon": CENTER[1]},
        "attackers": {"ratio": 0.3, "seed": 42, "method": method},
        "attack": {"kind": "positional_offset_const_per_id_with_random_direction",
                   "min_dist": 25.0, "max_dist": 250.0},
        "output": {"dir": str(out)},
    }
    for sec, kv in over.items():
        d.setdefault(sec, {}).update(kv)
    return d


def _start(tmp_path, cfg: dict, **popen) -> subprocess.Popen:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def _parts(out) -> list[str]:
    return sorted(glob.glob(os.path.join(out, "part-*.parquet")))


def _wait_for_parts(proc: subprocess.Popen, out, n: int, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while len(_parts(out)) < n:
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {n} parts were written: "
                        f"{proc.stderr.read()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail(f"fewer than {n} parts after {timeout} s")
        time.sleep(0.001)


def _assert_nothing_half_written(out) -> None:
    """Whatever carries a part's name is a whole Parquet file, and without the manifest the
    directory does not claim to be a finished output."""
    import pyarrow.parquet as pq

    for p in _parts(out):
        pq.read_table(p)  # a truncated file has no footer: raises
    assert not os.path.exists(os.path.join(out, MANIFEST))
    with pytest.raises(FileNotFoundError, match="incomplete"):
        v2x.output_parts(out)


def _assert_complete(out, res) -> None:
    """The manifest lists exactly the part files there are, each once, with their rows, and
    nothing else (no temporary or staging file) is left in the directory."""
    with open(os.path.join(out, MANIFEST)) as f:
        man = json.load(f)
    listed = [p["file"] for p in man["parts"]]
    assert len(listed) == len(set(listed)) == res.parts
    assert sorted(listed) == [os.path.basename(p) for p in _parts(out)]
    assert sorted(os.listdir(out)) == sorted([*listed, MANIFEST])
    assert v2x.output_parts(out) == [os.path.join(out, p) for p in listed]
    rows = {p["file"]: p["rows"] for p in man["parts"]}
    import pyarrow.parquet as pq

    for p in _parts(out):
        assert pq.read_metadata(p).num_rows == rows[os.path.basename(p)]
    assert man["rows_out"] == sum(rows.values()) == res.rows_out


def _read(out) -> pd.DataFrame:
    df = pd.concat([pd.read_parquet(p) for p in v2x.output_parts(out)])
    return df.sort_index()


# method "hash": one pass; "exact" with stage_memory 0: two passes, pass 1 spills every part
# to out/_stage. The Dask engine starts its own LocalCluster (2 worker processes).
@pytest.mark.parametrize("sig, method, engine", [
    (signal.SIGINT, "hash", "local"), (signal.SIGINT, "exact", "local"),
    (signal.SIGKILL, "hash", "local"), (signal.SIGKILL, "exact", "local"),
    (signal.SIGINT, "hash", "dask")], ids=lambda v: getattr(v, "name", v))
def test_interrupted_run_leaves_nothing_that_looks_complete(bsm, tmp_path, sig, method, engine):
    if engine == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "out"
    cfg = _cfg(bsm, out, method=method, input={"stage_memory": 0},
               engine={"kind": engine, "n_workers": 2})
    proc = _start(tmp_path, cfg)
    try:
        _wait_for_parts(proc, out, 3)
        proc.send_signal(sig)
        t0 = time.monotonic()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("the run did not stop within 10 s of the signal")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0, "the run finished before the signal: make the input larger"
    if sig == signal.SIGINT:
        assert "KeyboardInterrupt" in err, err[-2000:]
        assert time.monotonic() - t0 < 10
        # Ctrl-C cleans up: no temporary part, no staging directory
        assert sorted(os.listdir(out)) == [os.path.basename(p) for p in _parts(out)]
    _assert_nothing_half_written(out)

    # the next run in the same directory removes the leftovers and completes
    res = v2x.Pipeline(_cfg(bsm, out, method=method)).run()
    _assert_complete(out, res)
    ref = v2x.Pipeline(_cfg(bsm, tmp_path / "ref", method=method)).run()
    pd.testing.assert_frame_equal(_read(out), _read(ref.output_dir))


def _limit_file_size(limit: int):
    def preexec():
        import resource

        # write() beyond the limit then fails with EFBIG instead of the process being killed
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.parametrize("what", ["part", "stage"])
def test_full_disk_is_an_error_naming_the_path(bsm, tmp_path, what):
    """A file-size limit stands in for a full disk (same failing write(), errno EFBIG instead
    of ENOSPC): the run fails with an OSError naming the file, leaving no half-written part."""
    out = tmp_path / "out"
    if what == "part":  # one pass: the first Parquet part is too large
        cfg = _cfg(bsm, out)
        want = re.escape(str(out)) + r"/part-\d{5}\.parquet"
    else:  # two passes, everything staged to disk: the first staged part is too large
        cfg = _cfg(bsm, out, method="exact", input={"stage_memory": 0})
        want = re.escape(str(out / "_stage")) + r"/part-\d{5}\.arrow"
    proc = _start(tmp_path, cfg, preexec_fn=_limit_file_size(32 * 1024))
    try:
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, stderr[-2000:]
    e = json.loads(stdout.splitlines()[-1])
    assert e["errno"] == 27  # EFBIG
    assert re.fullmatch(want, e["filename"] or ""), e
    assert re.search(want, e["message"]) and "File too large" in e["message"], e
    _assert_nothing_half_written(out)
    assert not glob.glob(os.path.join(out, ".*")), os.listdir(out)  # no temporary file
    assert not os.path.exists(out / "_stage")


# A LocalCluster with 2 worker processes; once some parts are written, one worker is killed
# with SIGKILL, preferably one that is writing a part at that moment (its pid is in the
# temporary file's name). The nanny restarts it and the scheduler retries its tasks.
DASK_KILL = r"""
import glob, json, os, re, signal, sys, threading, time
from distributed import Client, LocalCluster
from blockops.v2x import Pipeline

def main():
    cfg = json.load(open(sys.argv[1]))
    out = cfg["output"]["dir"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = sorted(client.run(os.getpid).values())
        cfg["engine"] = {"kind": "dask", "address": cluster.scheduler_address}
        killed = {}

        def kill():
            t0 = time.monotonic()
            while len(glob.glob(os.path.join(out, "part-*.parquet"))) < 3:
                if time.monotonic() - t0 > 60:
                    return
                time.sleep(0.001)
            victim, writing = pids[0], False
            t1 = time.monotonic()
            while time.monotonic() - t1 < 1.0 and not writing:
                for tmp in glob.glob(os.path.join(out, ".part-*.tmp")):
                    m = re.search(r"\.(\d+)-[0-9a-f]+\.tmp$", tmp)
                    if m and int(m.group(1)) in pids:
                        victim, writing = int(m.group(1)), True
                        break
                time.sleep(0.0005)
            os.kill(victim, signal.SIGKILL)
            killed.update(pid=victim, mid_write=writing,
                          parts_before=len(glob.glob(os.path.join(out, "part-*.parquet"))))

        th = threading.Thread(target=kill, daemon=True)
        th.start()
        res = Pipeline(cfg).run()
        th.join(10)
        print(json.dumps({"killed": killed, "parts": res.parts, "rows_out": res.rows_out}))

if __name__ == "__main__":
    main()
"""


def test_dask_worker_killed_mid_run_gives_the_local_output(bsm, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    cfg = _cfg(bsm, out)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    (tmp_path / "kill.py").write_text(DASK_KILL)
    try:
        r = subprocess.run([sys.executable, str(tmp_path / "kill.py"), str(tmp_path / "cfg.json")],
                           capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the Dask run did not finish within 120 s")
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.splitlines()[-1])
    assert got["killed"], "no worker was killed"
    assert got["parts"] > got["killed"]["parts_before"], "the kill came after the last part"
    local = v2x.Pipeline(_cfg(bsm, tmp_path / "local")).run()
    assert got["parts"] == local.parts and got["rows_out"] == local.rows_out

    class _Res:  # what _assert_complete needs of a result
        parts, rows_out = got["parts"], got["rows_out"]

    _assert_complete(out, _Res)  # no duplicate, partial or temporary part
    a, b = _read(local.output_dir), _read(out)
    assert len(a) == local.rows_out and a.index.is_unique
    pd.testing.assert_frame_equal(b[a.columns], a)
    assert np.array_equal(a.index.to_numpy(), b.index.to_numpy())


def test_a_new_run_first_withdraws_the_old_manifest(bsm, tmp_path, monkeypatch):
    """Rewriting a finished output: the old manifest goes before any part does, so a run
    interrupted at any point never leaves the old manifest over new (or missing) parts."""
    from blockops.v2x import pipeline as pl

    out = tmp_path / "out"
    res = v2x.Pipeline(_cfg(bsm, out)).run()
    _assert_complete(out, res)
    (out / ".part-00001.parquet.123-abcdef01.tmp").write_bytes(b"PAR1")  # a killed writer's
    removed = []
    real_remove = os.remove

    def remove(p, *a, **k):
        removed.append(os.path.basename(p))
        return real_remove(p, *a, **k)

    monkeypatch.setattr(pl.os, "remove", remove)
    pl._prepare_dir(str(out), True)
    monkeypatch.undo()
    assert removed[0] == MANIFEST and len(removed) == res.parts + 2
    assert os.listdir(out) == []


def test_output_parts_rejects_a_listed_part_that_is_missing(bsm, tmp_path):
    out = tmp_path / "out"
    res = v2x.Pipeline(_cfg(bsm, out)).run()
    parts = v2x.output_parts(out)
    assert len(parts) == res.parts
    os.remove(parts[1])
    with pytest.raises(FileNotFoundError, match="missing.*part-00001.parquet"):
        v2x.output_parts(out)


def test_a_failed_write_names_the_file_and_leaves_no_temporary(tmp_path):
    from blockops.v2x import pipeline as pl

    target = str(tmp_path / "part-00000.parquet")

    def fails(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError("no space left, says the library")  # no errno, no file name

    with pytest.raises(OSError, match=re.escape(repr(target))):
        pl._atomic_write(target, fails, "output part")
    assert os.listdir(tmp_path) == []

    def interrupted(tmp):
        open(tmp, "wb").close()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pl._atomic_write(target, interrupted, "output part")
    assert os.listdir(tmp_path) == []
