"""blockops in child processes, after threaded calls in the parent.

libgomp's thread pool does not survive fork(): without the runner thread of
csrc/common/fork.c the forking thread hangs in its next parallel region in the child. Every
scenario runs in its own interpreter under a timeout, so a hang fails the test instead of
blocking the run. Children use two threads and must give the parent's results bit for bit;
where it matters they also show that a second thread really ran (the OpenMP worker is a task
of the child process).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 120

PRELUDE = r'''
import os, sys, threading, hashlib
import numpy as np, pandas as pd
import blockops, blockops.geo as geo
from blockops import _core
from blockops.io import read_csv
import blockops.labels as labels

CSV = sys.argv[1]
rng = np.random.default_rng(3)
LAT = rng.uniform(-89, 89, 300_000); LON = rng.uniform(-179, 179, 300_000)
KEYS = np.arange(200_000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)

def tasks():
    return len(os.listdir("/proc/self/task"))

def work(_=None):
    """Threaded kernels of every area; a digest of their results and the peak task count."""
    h = hashlib.sha256()
    peak = 0
    d = geo.haversine(lat1=LAT, lon1=LON, lat2=41.5, lon2=-106.0, n_threads=2)
    peak = max(peak, tasks()); h.update(d.tobytes())
    m = geo.within_radius(lat=LAT, lon=LON, center_lat=41.5, center_lon=-106.0,
                          radius_m=2_000_000, n_threads=2)
    h.update(m.tobytes())
    h.update(_core.rng_u64(KEYS, seed=1, stream=2, n_threads=2).tobytes())
    df = read_csv(CSV, n_threads=2, blocksize=1 << 16)
    peak = max(peak, tasks())
    h.update(df.to_csv().encode())
    n = 5_000
    t = (np.arange(n, dtype=np.int64) * 60_000_000_000 + 1_700_000_000_000_000_000)
    c = 100 + np.sin(np.arange(n) / 50.0)
    bars = dict(timestamp=t.astype("datetime64[ns]"), open=c, high=c + 0.5, low=c - 0.5,
                close=c, volume=np.ones(n))
    lab = labels.barrier_labels(bars, tick_size=0.25, n_threads=2)
    h.update(pd.DataFrame(lab).to_csv().encode())
    return h.hexdigest(), peak
'''


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("fork") / "t.csv"
    lines = ["a,b,c,d"] + [f"{i},{i * 0.25},x{i % 7},{'NA' if i % 11 == 0 else i}"
                           for i in range(60_000)]
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def run_script(body: str, csv_file: str) -> str:
    # a file, not -c: spawn and forkserver children import the main module by path
    script = os.path.join(os.path.dirname(csv_file), f"script_{os.getpid()}_{id(body)}.py")
    with open(script, "w") as f:
        f.write(PRELUDE + textwrap.dedent(body))
    try:
        r = subprocess.run([sys.executable, script, csv_file], capture_output=True,
                           text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        # the hung pool workers outlive the killed parent; do not leave them behind
        subprocess.run(["pkill", "-KILL", "-f", script], check=False)
        pytest.fail(f"hung (timeout {TIMEOUT} s); output so far: {e.stdout!r} {e.stderr!r}")
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def check_results(out: str):
    """Every 'R digest peak' line equals the parent's digest; children ran a second thread."""
    rows = [ln.split() for ln in out.splitlines() if ln.startswith("R ")]
    assert len(rows) >= 2, out
    parent = rows[0][1]
    for _, digest, peak in rows:
        assert digest == parent
        # main thread (+ the runner in a fork child) + at least one OpenMP worker
        assert int(peak) >= 2, rows
    return rows


def test_multiprocessing_fork_pool(csv_file):
    out = run_script('''
        import multiprocessing as mp
        print("R", *work())
        with mp.get_context("fork").Pool(2) as p:
            for digest, peak in p.map(work, range(4)):
                print("R", digest, peak)
    ''', csv_file)
    check_results(out)


def test_os_fork_child_and_grandchild(csv_file):
    out = run_script('''
        print("R", *work(), flush=True)
        pid = os.fork()
        if pid == 0:
            print("R", *work(), flush=True)
            g = os.fork()
            if g == 0:
                print("R", *work(), flush=True)
                os._exit(0)
            _, st = os.waitpid(g, 0)
            os._exit(os.waitstatus_to_exitcode(st))
        _, st = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(st) == 0
    ''', csv_file)
    assert len(check_results(out)) == 3


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_process_pool_executor(csv_file, method):
    out = run_script(f'''
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        if __name__ == "__main__":
            print("R", *work())
            with ProcessPoolExecutor(2, mp_context=mp.get_context("{method}")) as ex:
                for digest, peak in ex.map(work, range(3)):
                    print("R", digest, peak)
    ''', csv_file)
    assert len(check_results(out)) == 4


def test_fork_from_a_thread_that_ran_kernels(csv_file):
    out = run_script('''
        res = {}
        def body():
            res["parent"] = work()
            pid = os.fork()
            if pid == 0:
                print("R", *work(), flush=True)
                os._exit(0)
            _, st = os.waitpid(pid, 0)
            res["rc"] = os.waitstatus_to_exitcode(st)
        print("R", *work(), flush=True)
        t = threading.Thread(target=body); t.start(); t.join()
        assert res["rc"] == 0 and res["parent"][0]
    ''', csv_file)
    assert len(check_results(out)) == 2


def test_errors_and_threads_in_a_fork_child(csv_file, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    out = run_script(f'''
        import multiprocessing as mp
        from blockops import CsvParseError
        def child(_):
            out = []
            try:
                geo.haversine(lat1=LAT[:3], lon1=LON[:2], lat2=1.0, lon2=2.0)
            except ValueError as e:
                out.append(type(e).__name__ + ": " + str(e))
            try:
                read_csv({str(bad)!r}, n_threads=2)
            except CsvParseError as e:
                out.append(f"CsvParseError line={{e.line}}")
            work()  # this (forking) thread goes through the runner
            # Python threads born in the child call directly and concurrently
            ts = [threading.Thread(target=work) for _ in range(2)]
            [t.start() for t in ts]; [t.join() for t in ts]
            return out
        work()
        with mp.get_context("fork").Pool(1) as p:
            for line in p.map(child, [0]):
                print("\\n".join(line))
    ''', csv_file)
    assert "ValueError: haversine: lat1 has length 3 but lon1 has length 2" in out
    assert "CsvParseError line=3" in out


def test_output_pool_in_fork_child(csv_file):
    """At fork() the parent's output pool keeps buffers of an earlier read: a child reads with
    them (its own copies of them), gives the parent's results, and the parent's later reads
    are not disturbed by what the child wrote."""
    out = run_script('''
        def whole():
            df = read_csv(CSV, n_threads=2)  # one block: arrays of 480 KB, pool buffers
            return hashlib.sha256(df.to_csv().encode()).hexdigest()
        first = whole()
        kept = blockops.output_pool_info()
        assert kept["held"] > 0, kept
        pid = os.fork()
        if pid == 0:
            ok = whole() == first and whole() == first
            os._exit(0 if ok and blockops.output_pool_info()["hits"] > kept["hits"] else 3)
        _, st = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(st) == 0, st
        print("R", first, 2)
        print("R", whole(), 2)
    ''', csv_file)
    check_results(out)
