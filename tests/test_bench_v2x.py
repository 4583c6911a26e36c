"""The v2x benchmark's harness (``python -m blockops bench v2x``) at a tiny size.

Speed is not asserted (GUIDE 5). These tests check that the original-pattern side computes what
the original computes (rows kept, attackers, per-ID offsets) against an independent plain
pandas/Python computation, that the output check tells a crude-box difference from a real
mismatch, and that a child that is killed (memory, timeout) or fails is reported, not raised.
"""
from __future__ import annotations

import argparse
import math
import os

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("dask.dataframe")
pytest.importorskip("sklearn")

from blockops._bench import v2x as bench  # noqa: E402

ROWS = 2000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("v2x")
    # 2 % of the rows have one empty field: dropna must remove exactly those
    return bench.ensure_file(str(d), ROWS, 3, 0.02, lambda m: None)


def _expected(path, radius_m):
    """The original's steps 1-4 written independently: plain pandas read, Python floats and
    math for POINT, crude box and haversine, sklearn train_test_split on the sorted IDs."""
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(path, dtype=str, keep_default_na=True).dropna()
    clat, clon = 41.5430216, -106.0831353
    dlat = radius_m / 111320.0
    dlon = radius_m / (111320.0 * abs(clat / 90.0 + 0.1))
    keep, pos = [], {}
    for rid, point in zip(df["metadata_serialId_serialNumber"], df["coreData_position"]):
        lon_s, lat_s = point[len("POINT ("):-1].split(" ")
        lat, lon = float(lat_s), float(lon_s)
        if not (clat - dlat <= lat <= clat + dlat and clon - dlon <= lon <= clon + dlon):
            continue
        p1, p2 = math.radians(clat), math.radians(lat)
        a = (math.sin((p2 - p1) / 2) ** 2
             + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon - clon) / 2) ** 2)
        if 2 * 6371008.8 * math.asin(math.sqrt(a)) <= radius_m:
            keep.append(int(rid))
            pos[int(rid)] = (6371000.0 * math.radians(lon - clon) * math.cos(math.radians(clat)),
                             6371000.0 * math.radians(lat - clat))
    kept = df[df["metadata_serialId_serialNumber"].astype(int).isin(keep)]
    ids = sorted(set(kept["coreData_id"]))
    _, attackers = train_test_split(ids, test_size=0.3, random_state=42)
    label = {int(r): int(i in set(attackers))
             for r, i in zip(kept["metadata_serialId_serialNumber"], kept["coreData_id"])}
    return label, pos, set(attackers), len(df)


def _spec(side, meta, out_dir, radius_m=bench.DEFAULT_RADIUS_M, **kw):
    return dict({"side": side, "path": meta["path"], "out_dir": str(out_dir),
                 "center_lat": bench.CENTER_LAT, "center_lon": bench.CENTER_LON,
                 "radius_m": radius_m, "ratio": 0.3, "seed": 42, "min_dist": 25,
                 "max_dist": 250, "blocksize": None}, **kw)


def test_original_side_against_independent_computation(data, tmp_path):
    label, pos, attackers, rows_clean = _expected(data["path"], bench.DEFAULT_RADIUS_M)
    assert ROWS - 80 < rows_clean < ROWS  # some rows had an empty field
    assert 0.3 * ROWS < len(label) < 0.8 * ROWS and 0 < sum(label.values()) < len(label)

    out = tmp_path / "orig"
    oc = bench.supervise(bench.child_argv(_spec("original", data, out)), timeout=120)
    assert oc.ok, (oc.status, oc.error, oc.stderr[-2000:])
    d = oc.data
    assert d["rows_out"] == len(label)
    assert d["attacker_rows"] == sum(label.values())
    assert d["attacker_ids"] == len(attackers)
    assert d["peak_rss"] > 0 and d["wall_s"] > 0 and d["stages"]

    lab = bench.read_labels(str(out))
    np.testing.assert_array_equal(lab.ids, sorted(label))
    np.testing.assert_array_equal(lab.labels, [label[k] for k in sorted(label)])
    assert lab.attacker_ids == len(attackers)

    # step 5: regular rows keep their projected position; each attacker ID is moved by one
    # constant vector of integer length 25..250 m
    df = pd.read_parquet(out)
    x0 = np.array([pos[int(r)][0] for r in df["metadata_serialId_serialNumber"]])
    y0 = np.array([pos[int(r)][1] for r in df["metadata_serialId_serialNumber"]])
    dx, dy = df["x_pos"].to_numpy() - x0, df["y_pos"].to_numpy() - y0
    reg = df["isAttacker"].to_numpy() == 0
    assert np.abs(dx[reg]).max() < 1e-6 and np.abs(dy[reg]).max() < 1e-6
    att = df[~reg].assign(dx=dx[~reg], dy=dy[~reg])
    assert set(att["coreData_id"]) == attackers & set(att["coreData_id"])
    for _, g in att.groupby("coreData_id"):
        assert np.ptp(g["dx"]) < 1e-6 and np.ptp(g["dy"]) < 1e-6
        dist = math.hypot(g["dx"].iloc[0], g["dy"].iloc[0])
        assert 25 - 1e-6 <= dist <= 250 + 1e-6 and abs(dist - round(dist)) < 1e-6


def test_blockops_side_reported_or_compared(data, tmp_path):
    """Until blockops.v2x.Pipeline exists the side says 'not available' (with the ImportError);
    once it does, its output must pass the same check against the original."""
    out_b = tmp_path / "bo"
    oc = bench.supervise(bench.child_argv(_spec("blockops", data, out_b)), timeout=120)
    try:
        from blockops.v2x import Pipeline  # noqa: F401
    except ImportError:
        assert oc.status == "not available", (oc.status, oc.error)
        assert "ImportError" in oc.error and "Pipeline" in oc.error
        return
    assert oc.ok, (oc.status, oc.error, oc.stderr[-2000:])
    out_o = tmp_path / "orig"
    assert bench.supervise(bench.child_argv(_spec("original", data, out_o)), timeout=120).ok
    ok, text = bench.compare(bench.read_labels(str(out_o)), bench.read_labels(str(out_b)),
                             csv_path=data["path"], center_lat=bench.CENTER_LAT,
                             center_lon=bench.CENTER_LON, radius_m=bench.DEFAULT_RADIUS_M)
    assert ok, text


def test_killed_and_failed_children_are_reported(tmp_path):
    oc = bench.supervise(bench.child_argv({"side": "sleep", "alloc_mb": 400, "seconds": 30}),
                         timeout=60, memory_limit=200 << 20)
    assert oc.status == "memory" and not oc.ok
    assert oc.rss_at_kill > 200 << 20 and "exceeded the memory limit" in oc.error
    assert oc.wall_s < 30

    oc = bench.supervise(bench.child_argv({"side": "sleep", "seconds": 30}), timeout=1.0)
    assert oc.status == "timeout" and "timed out after 1 s" in oc.error and oc.wall_s < 20

    oc = bench.supervise(bench.child_argv({"side": "sleep", "alloc_mb": 50, "seconds": 0}),
                         timeout=60, memory_limit=2 << 30)
    assert oc.ok and oc.data["held"] == 50 << 20 and oc.data["peak_rss"] >= 50 << 20

    spec = _spec("original", {"path": str(tmp_path / "missing.csv")}, tmp_path / "o")
    oc = bench.supervise(bench.child_argv(spec), timeout=60)
    assert oc.status == "failed" and "missing.csv" in oc.error

    # the report renders killed and unavailable sides instead of raising
    metas = [{"rows": n, "nbytes": 300 * n, "vehicles": 20, "generated": True}
             for n in (1000, 2000)]
    # the first file read cold: 2,000 MB that the disk reads in 1 s (the floor)
    metas[0].update(nbytes=2_000_000_000, cold=True, cold_read_s=1.0, cached_after_evict=0)
    ok_data = {"wall_s": 2.0, "cpu_s": 2.0, "peak_rss": 1 << 30, "stages": {"all": 2.0}}
    runs = [bench.SideRun(1000, "original", bench.Outcome("memory", 12.0, error="killed: x",
                                                          rss_at_kill=5 << 30)),
            bench.SideRun(1000, "blockops", bench.Outcome("ok", 3.0, data=ok_data),
                          labels=_labels([1, 2, 3], [0, 1, 1], 1)),
            bench.SideRun(2000, "original", bench.Outcome("timeout", 60.0, error="killed: t",
                                                          rss_at_kill=1 << 30)),
            bench.SideRun(2000, "blockops", bench.Outcome("not available", 1.0,
                                                          error="ImportError: no Pipeline"))]
    args = argparse.Namespace(memory_limit_bytes=4 << 30, timeout=60.0, seed=1,
                              null_fraction=0.0, radius_m=8000.0, blocksize=None, workers=2,
                              worker_memory="2GiB")
    text = bench.render_report(runs, {(1000, "original"): (True, "not compared"),
                                      (2000, "original"): (True, "x")}, None,
                               metas, args, "cmd", "now", 0.0, 0.0)
    # a killed side did not finish; its time and RSS at the kill are lower bounds of its
    # ratios to blockops (12 s / 2 s, 5 GiB / 1 GiB)
    assert ("| 1,000 | original | did not finish (memory cap 4.0 GiB): killed: x | 12.0 |  |  | "
            "5.0 GiB |  |  |  |  | > 6.0x | > 5.0x |  |") in text
    assert ("| 1,000 | blockops | ok | 2.000 | 1,000 | 0.50 | 1.0 GiB |  | 3 | 2 | 1 |  |  | "
            "reference |") in text
    assert ("| 2,000 | original | did not finish (time cap 60 s): killed: t | 60.0 |  |  | "
            "1.0 GiB |" in text)
    assert "not available: ImportError: no Pipeline" in text
    assert ("1,000 rows: blockops peak RSS 1.0 GiB, 1,000 MB/s read cold (target >= 500: met), "
            "0.50 of the disk's 2,000 MB/s (target >= 0.75: NOT met); ahead of every peer in "
            "wall time (original): met") in text
    assert ("1,000 rows: read cold, evicted from the page cache (POSIX_FADV_DONTNEED) before "
            "each side (0 MB still cached after the eviction, fincore); the disk reads it at "
            "2,000 MB/s") in text
    assert "2,000 rows: the CSV is in the page cache (read once before)." in text


def _labels(ids, labels, n_att_ids=1):
    ids = np.asarray(ids, np.int64)
    o = np.argsort(ids)
    return bench.Labels(ids[o], np.asarray(labels, np.int8)[o], n_att_ids)


def test_compare_explains_the_crude_box_only(tmp_path):
    r = 8000.0
    clat, clon = bench.CENTER_LAT, bench.CENTER_LON
    north = clat + math.degrees(0.9995 * r / bench.HAVERSINE_R)  # inside the circle
    inner = clat + math.degrees(0.5 * r / bench.HAVERSINE_R)
    assert north > bench.crude_box(clat, clon, r)[1] > inner  # ... but outside the crude box
    csv = tmp_path / "pts.csv"
    csv.write_text(f"{bench.ROW_ID},coreData_position_lat,coreData_position_long\n"
                   f"1,{inner},{clon}\n2,{inner},{clon}\n7,{north},{clon}\n8,{inner},{clon}\n")
    kw = dict(csv_path=str(csv), center_lat=clat, center_lon=clon, radius_m=r)
    orig = _labels([1, 2], [0, 1])
    assert bench.compare(orig, _labels([2, 1], [1, 0]), **kw)[0]
    ok, text = bench.compare(orig, _labels([1, 2, 7], [0, 1, 0]), **kw)
    assert ok and "crude box" in text and "1 only in blockops (1 of them outside" in text
    ok, text = bench.compare(orig, _labels([1, 2, 8], [0, 1, 0]), **kw)
    assert not ok and text.startswith("MISMATCH") and "(0 of them outside" in text
    ok, text = bench.compare(orig, _labels([1, 2], [1, 1]), **kw)
    assert not ok and "isAttacker differs on 1 of 2 common rows" in text
    ok, text = bench.compare(_labels([1, 2, 8], [0, 1, 0]), orig, **kw)
    assert not ok and "1 only in the original" in text
    ok, text = bench.compare(orig, _labels([1, 2], [0, 1], n_att_ids=2), **kw)
    assert not ok and "attacker IDs 1 vs 2" in text


def test_parsers_and_config(tmp_path):
    assert bench.parse_count("15M") == 15_000_000
    assert bench.parse_count("2,000") == 2000 and bench.parse_count("1.5k") == 1500
    for bad in ("x", "1.5", "-3", "2Q"):
        with pytest.raises(ValueError):
            bench.parse_count(bad)
    assert bench.parse_memory("0") is None and bench.parse_memory("none") is None
    assert bench.parse_memory("2GB") == 2 * 10**9
    assert abs(bench.parse_memory("50%") - bench._mem_total_bytes() / 2) < 2
    cfg = bench.pipeline_config("in.csv", "out", radius_m=5000)
    assert cfg["filter"] == {"kind": "radius", "center_lat": 41.5430216,
                             "center_lon": -106.0831353, "radius_m": 5000.0}
    assert cfg["attack"]["kind"] == "positional_offset_const_per_id_with_random_direction"
    assert cfg["attackers"] == {"ratio": 0.3, "seed": 42, "method": "exact"}
    assert "blocksize" not in cfg["input"] and cfg["clean"]["timestamps"] is True
    try:
        from blockops.v2x import PipelineConfig
    except ImportError:
        return
    PipelineConfig.from_dict(cfg)  # the contract's schema accepts it


def test_cli_dispatches_to_v2x(capsys):
    from blockops import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "v2x", "--help"])
    assert exc.value.code == 0
    assert "--memory-limit" in capsys.readouterr().out
    assert os.path.basename(bench.__file__) == "v2x.py"


def test_cold_read_evicts_the_file_from_the_page_cache(tmp_path):
    """``--cache cold`` relies on POSIX_FADV_DONTNEED emptying the page cache of the file (the
    floor and every side then read from the disk); fincore says whether it did."""
    from blockops._bench import timing

    p = tmp_path / "f.bin"
    mounts = [ln.split() for ln in open("/proc/mounts", encoding="utf-8")] \
        if os.path.exists("/proc/mounts") else []
    fs = max(((m[1], m[2]) for m in mounts if str(tmp_path).startswith(m[1].rstrip("/") + "/")),
             default=("", ""), key=lambda m: len(m[0]))[1]
    if fs in ("tmpfs", "ramfs", ""):
        pytest.skip(f"{tmp_path} is on {fs or 'an unknown file system'}: its pages are the "
                    "file, not a cache of it")
    p.write_bytes(os.urandom(8 << 20))
    timing.warm_page_cache(str(p))
    before = timing.cached_bytes(str(p))
    if before is None:
        pytest.skip("no fincore (util-linux) to tell what is cached")
    assert before == 8 << 20
    s = timing.cold_read_seconds(str(p))
    assert s > 0 and timing.cached_bytes(str(p)) == 0


def test_too_little_disk_is_said_before_anything_runs(tmp_path, monkeypatch, capsys):
    """A run that clearly cannot fit on --out-dir's disk stops at once with the space it needs
    and has (a 150 M row run once failed with ENOSPC at its 590th part, after 80 s); a CSV
    already generated is not counted again."""
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    free = {"bytes": 10**9}
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(0, 0, free["bytes"]))
    out = str(tmp_path / "not" / "yet")  # measured on the nearest existing parent
    msg = bench.check_space(out, [15_000_000], 42, 0.001, 1, False)
    need = 15_000_000 * (bench.CSV_BYTES_PER_ROW + bench.STAGE_BYTES_PER_ROW)
    assert msg and f"about {need / 1e9:,.1f} GB" in msg and "1.0 GB are free" in msg
    with pytest.raises(SystemExit):
        bench.main(["--rows", "15M", "--sides", "blockops", "--out-dir", out])
    assert "GB of disk are needed" in capsys.readouterr().err
    free["bytes"] = need
    assert bench.check_space(out, [15_000_000], 42, 0.001, 1, False) is None
    # the CSV is there: only the run's staged parts (or output) count
    os.makedirs(out)
    path = os.path.join(out, "bsm_v2x_15000000r_seed42_null0.001.csv")
    for p in (path, path + ".json"):
        open(p, "w").close()
    free["bytes"] = 15_000_000 * bench.STAGE_BYTES_PER_ROW
    assert bench.check_space(out, [15_000_000], 42, 0.001, 1, False) is None
    # every side's output kept: one more output per other side
    assert bench.check_space(out, [15_000_000], 42, 0.001, 3, True)
