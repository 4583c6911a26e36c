"""The output pool (csrc/common/pool.c, blockops.set_output_pool_limit): reader outputs are
written over the pages of earlier, freed outputs, so what a caller still holds must never
change, what a new read returns must never show an earlier read's values, and the limit must
hold."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import blockops
from blockops import _core
from blockops.io import CsvBlockReader, read_csv

N = 300_000  # rows: even the bool masks and bad-row flags (1 byte a row) are pool buffers


def _frame(seed: int, na_every: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=N).round(6)
    i = rng.integers(-10**12, 10**12, N)
    flag = rng.integers(0, 2, N).astype(bool)
    s = np.array([f"v{k % 977}" for k in range(N)], dtype=object)
    df = pd.DataFrame({"i": i, "f": f, "flag": flag, "s": s})
    if na_every:
        df.loc[::na_every, ["f", "s"]] = None
        df["n"] = pd.array(np.where(np.arange(N) % na_every == 1, None, i), dtype="Int64")
    else:
        df["n"] = pd.array(i, dtype="Int64")
    return df


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pool")
    out = {}
    for name, seed, na in (("many_na", 1, 2), ("no_na", 2, 0), ("some_na", 3, 7)):
        p = d / f"{name}.csv"
        _frame(seed, na).to_csv(p, index=False)
        out[name] = str(p)
    # one row of too many fields in the middle: the bad-row flags decide which rows stay
    lines = open(out["some_na"], encoding="utf-8").read().splitlines(keepends=True)
    lines.insert(N // 2, "1,2.5,True,x,7,extra\n")
    p = d / "one_bad.csv"
    p.write_text("".join(lines), encoding="utf-8")
    out["one_bad"] = str(p)
    return out


@pytest.fixture
def pool_limit():
    old = _core.pool_stats()["limit"]
    yield
    _core.pool_set_limit(old)


def _fill_pool_with_garbage(lo: int = N // 2, hi: int = 20 * N) -> None:
    """Buffers of every size class from lo to hi bytes, all 0xFF, freed into the pool: the next
    read gets them (true masks and bad-row flags, NaN-like floats, -1 ints)."""
    arrs = []
    n = lo
    while n <= hi:
        a = _core.pool_empty(n, np.uint8, False)
        a.fill(0xFF)
        arrs.append(a)
        n = int(n * 1.06) + 1
    del arrs, a


def _want(path):
    return pd.read_csv(path, dtype={"n": "Int64"}, on_bad_lines="skip")


def _check(got: pd.DataFrame, want: pd.DataFrame):
    assert list(got.columns) == list(want.columns)
    for c in want.columns:
        g, w = got[c], want[c]
        assert (g.isna().to_numpy() == w.isna().to_numpy()).all(), c
        ok = ~w.isna().to_numpy()
        assert (g[ok].astype(object).to_numpy() == w[ok].astype(object).to_numpy()).all(), c


def test_held_outputs_never_change_and_new_ones_never_show_old_values(files, pool_limit):
    blockops.set_output_pool_limit("256MiB")
    wants = {k: _want(p) for k, p in files.items()}
    held = []
    before = blockops.output_pool_info()["hits"]
    # every read gets buffers full of 0xFF: flags and masks must come back cleared
    for rnd in range(3):
        for name in ("many_na", "no_na", "some_na", "one_bad"):
            _fill_pool_with_garbage()
            df = read_csv(files[name], dtypes={"n": "Int64"}, on_bad_lines="skip")
            assert df.attrs["blockops_stats"]["rows_skipped"] == (name == "one_bad")
            _check(df, wants[name])
            if rnd == 0:
                held.append((name, df))  # kept alive while later reads reuse freed buffers
            del df
    assert blockops.output_pool_info()["hits"] > before
    for name, df in held:
        _check(df, wants[name])


@pytest.mark.parametrize("threads", [1, 2])
def test_stream_blocks_reuse_the_pool(files, pool_limit, threads):
    blockops.set_output_pool_limit("256MiB")
    blockops.release_output_pool()
    want = _want(files["some_na"])
    before = blockops.output_pool_info()["hits"]
    parts = []
    with CsvBlockReader(files["some_na"], blocksize=2 << 20, n_threads=threads,
                        dtypes={"n": "Int64"}) as r:
        for block in r:
            parts.append(block.copy())  # the block itself is released: its buffers are free
            del block
    info = blockops.output_pool_info()
    assert info["hits"] > before and info["held"] <= info["limit"]
    _check(pd.concat(parts, ignore_index=True), want)


def test_limit_zero_keeps_nothing(files, pool_limit):
    assert blockops.set_output_pool_limit(0) > 0
    df = read_csv(files["no_na"])
    del df
    assert blockops.output_pool_info()["held"] == 0
    _check(read_csv(files["no_na"], dtypes={"n": "Int64"}), _want(files["no_na"]))
    blockops.set_output_pool_limit("64MiB")
    df = read_csv(files["no_na"])
    del df
    info = blockops.output_pool_info()
    assert 0 < info["held"] <= 64 * 2**20 and info["limit"] == 64 * 2**20
    assert blockops.release_output_pool() == info["held"]
    assert blockops.output_pool_info()["held"] == 0


def test_limit_is_a_bound(files, pool_limit):
    blockops.set_output_pool_limit("3MiB")
    for _ in range(3):
        df = read_csv(files["some_na"])
        del df
        assert blockops.output_pool_info()["held"] <= 3 * 2**20


@pytest.mark.parametrize("bad", [-1, "lots", 1.5, True])
def test_bad_limits_are_refused(bad, pool_limit):
    with pytest.raises((ValueError, TypeError)):
        blockops.set_output_pool_limit(bad)


def test_pool_arrays_are_plain_arrays():
    a = _core.pool_empty(300_000, np.float64, False)
    assert a.flags.c_contiguous and a.flags.writeable and not a.flags.owndata
    assert a.ctypes.data % 64 == 0
    z = _core.pool_empty(300_000, np.dtype("bool"), True)
    assert not z.any()
    with pytest.raises(ValueError):
        _core.pool_empty(10, object, False)  # references: never from raw memory
    with pytest.raises(ValueError):
        _core.pool_empty(-1, np.int64, False)


@pytest.mark.parametrize("env,limit,source", [("0", 0, "BLOCKOPS_OUTPUT_POOL"),
                                              ("64MiB", 64 * 2**20, "BLOCKOPS_OUTPUT_POOL"),
                                              ("", None, "default")])
def test_limit_from_the_environment(env, limit, source):
    if limit is None:  # 1/32 of the memory this process may use, at most 256 MiB
        limit = min(256 * 2**20, blockops.resources.system_memory().effective_limit // 32)
    code = ("import blockops; i = blockops.output_pool_info(); "
            "print(i['limit'], i['source']); blockops.show_config()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "BLOCKOPS_OUTPUT_POOL": env}, timeout=120)
    assert r.returncode == 0, r.stderr
    first, *rest = r.stdout.splitlines()
    assert first == f"{limit} {source}"
    assert any(ln.strip().startswith("output pool") and source in ln for ln in rest), r.stdout


def test_bad_limit_in_the_environment_names_it():
    r = subprocess.run([sys.executable, "-c", "import blockops"], capture_output=True,
                       text=True, env={**os.environ, "BLOCKOPS_OUTPUT_POOL": "much"},
                       timeout=120)
    assert r.returncode != 0 and "BLOCKOPS_OUTPUT_POOL" in r.stderr
