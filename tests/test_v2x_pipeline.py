"""blockops.v2x.Pipeline: end to end on the shared sample and synthetic files, against the
operators applied to the whole file in pandas; block-size invariance; row accounting; config
errors; the Dask engine on a LocalCluster; the CLI."""
from __future__ import annotations

import contextlib
import glob
import os

import numpy as np
import pandas as pd
import pytest

from blockops import v2x
from blockops.v2x import pipeline as pl

from csv_util import BSM_SAMPLE
from reference import csv_ref as R

CENTER = (41.25, -105.93)


def _cfg(tmp_path, src, **over):
    d = {
        "input": {"path": str(src), "blocksize": "256KB"},
        "filter": {"kind": "radius", "center_lat": CENTER[0], "center_lon": CENTER[1],
                   "radius_m": 3000.0},
        "project": {"origin_lat": CENTER[0], "origin_lon": CENTER[1]},
        "attackers": {"ratio": 0.3, "seed": 42, "method": "exact"},
        "attack": {"kind": "positional_offset_const_per_id_with_random_direction",
                   "min_dist": 25.0, "max_dist": 250.0},
        "output": {"dir": str(tmp_path / "out")},
    }
    for sec, kv in over.items():
        if kv is None:
            d.pop(sec, None)
        else:
            d.setdefault(sec, {}).update(kv)
    return d


def _read_out(d) -> pd.DataFrame:
    parts = sorted(glob.glob(os.path.join(d, "part-*.parquet")))
    df = pd.concat([pd.read_parquet(p) for p in parts])
    df.index.name = None
    return df.sort_index()


def _expected(src, cfg: pl.PipelineConfig) -> pd.DataFrame:
    """The operators on the whole file in pandas (the reference composition)."""
    raw = R.pandas_read_csv(src)
    df = v2x.clean(raw)
    df["coreData_id"] = v2x.hex_to_int(df["coreData_id"])
    f = cfg["filter"]
    if f["kind"] == "radius":
        df = v2x.filter_radius(df, center_lat=f["center_lat"], center_lon=f["center_lon"],
                               radius_m=f["radius_m"])
    if cfg.has_project:
        df = v2x.project_xy(df, origin_lat=cfg["project"]["origin_lat"],
                            origin_lon=cfg["project"]["origin_lon"])
    if f["kind"] == "xy_range":
        df = v2x.filter_xy_range(df, max_dist=f["max_dist"])
    df = v2x.timestamp_parts(df)
    a = cfg["attackers"]
    df = v2x.add_attackers(df, ratio=a["ratio"], seed=a["seed"], method=a["method"])
    kind = cfg["attack"]["kind"]
    if kind != "none":
        kw = cfg.attack_kwargs()
        if kind == "positional_swap_rand":
            kw["pool"] = cfg["attack"]["pool"] or v2x.DEFAULT_POOL_SIZE
        df = v2x.ATTACKS[kind](df, **kw)
    return df


def _assert_same(got: pd.DataFrame, exp: pd.DataFrame):
    assert got.index.tolist() == exp.index.tolist()
    assert set(got.columns) == set(exp.columns)
    for c in exp.columns:
        g, e = got[c].to_numpy(), exp[c].to_numpy()
        if e.dtype.kind in "fiu":  # the pipeline fixes the export's types (Int64, float64)
            np.testing.assert_array_equal(g.astype(np.float64), e.astype(np.float64), err_msg=c)
        else:
            assert list(map(str, g)) == list(map(str, e)), c


@pytest.mark.parametrize("kind", sorted(v2x.ATTACKS))
def test_pipeline_sample_matches_operators_on_whole_file(tmp_path, kind):
    kw = {"kind": kind}
    if kind == "positional_swap_rand":
        kw.update(pool=500, min_dist=None, max_dist=None)
    elif kind in ("positional_offset_const", "positional_override_const"):
        kw.update(min_dist=None, max_dist=None)
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, attack=kw))
    res = pl.Pipeline(cfg).run()
    got = _read_out(res.output_dir)
    exp = _expected(BSM_SAMPLE, cfg)
    _assert_same(got, exp)
    assert res.rows_in == 10_000 and res.rows_out == len(exp) > 0
    assert res.attacker_rows == int(exp["isAttacker"].sum()) > 0
    assert res.n_attackers == exp.loc[exp.isAttacker == 1, "coreData_id"].nunique()
    assert res.n_ids == exp["coreData_id"].nunique() > res.n_attackers
    assert res.rows_filtered_out == 10_000 - len(exp)  # the sample has no nulls or bad lines
    assert not os.path.exists(os.path.join(res.output_dir, "_stage"))


@pytest.mark.parametrize("blocksize", ["64KB", "300KB", "64MB"])
def test_pipeline_is_blocksize_invariant(tmp_path, blocksize):
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, input={"blocksize": blocksize},
                                           attack={"kind": "positional_offset_rand"}))
    res = pl.Pipeline(cfg).run()
    exp = _expected(BSM_SAMPLE, cfg)
    _assert_same(_read_out(res.output_dir), exp)


def test_output_parts_use_dictionaries_only_on_low_cardinality_columns(tmp_path):
    import pyarrow.parquet as pq

    res = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE))).run()
    part = sorted(glob.glob(os.path.join(res.output_dir, "part-*.parquet")))[0]
    meta = pq.ParquetFile(part).metadata
    rg = meta.row_group(0)
    dict_cols = {rg.column(i).path_in_schema for i in range(rg.num_columns)
                 if any("DICTIONARY" in e for e in rg.column(i).encodings)}
    assert {"metadata_generatedAt", "coreData_id", "month", "isAttacker"} <= dict_cols
    assert not dict_cols & {"x_pos", "y_pos", "coreData_speed", "row"}


def test_pipeline_hash_latlon_single_pass(tmp_path):
    cfg = pl.PipelineConfig.from_dict(_cfg(
        tmp_path, BSM_SAMPLE, project=None, attackers={"method": "hash"},
        attack={"kind": "positional_override_rand", "coords": "latlon", "min_dist": 0.0,
                "max_dist": 2000.0}))
    assert not cfg.needs_two_passes
    assert cfg.attack_kwargs()["origin"] == CENTER  # defaults to the filter's centre
    res = pl.Pipeline(cfg).run()
    got = _read_out(res.output_dir)
    _assert_same(got, _expected(BSM_SAMPLE, cfg))
    att = got[got.isAttacker == 1]
    from reference.geo_ref import haversine_np

    d = haversine_np(att.y_pos.to_numpy(), att.x_pos.to_numpy(), *CENTER)
    assert (d <= 2000.0 * (1 + 1e-9)).all()


def _dirty_file(tmp_path):
    lines = open(BSM_SAMPLE, encoding="utf-8").read().splitlines()
    head, rows = lines[0], lines[1:2001]
    rows[5] = rows[5].replace(",POINT", ",,POINT", 1)            # wrong field count: bad line
    f = rows[9].split(",")
    f[16] = ""                                                    # missing speed: dropped
    rows[9] = ",".join(f)
    rows[20] = rows[20].rsplit(",", 1)[0] + ',"POINT (-105.9 41.2"'  # malformed POINT: bad line
    p = tmp_path / "dirty.csv"
    p.write_text("\n".join([head] + rows) + "\n")
    return p


def test_pipeline_accounts_for_every_row(tmp_path):
    src = _dirty_file(tmp_path)
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, src, filter={"kind": "none"},
                                           attack={"kind": "none"}))
    res = pl.Pipeline(cfg).run()
    assert (res.rows_in, res.rows_skipped, res.rows_dropped_na) == (2000, 2, 1)
    assert res.rows_out == 1997 and res.rows_filtered_out == 0
    res.check()
    assert "skipped (bad)   2" in res.summary()
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, src, input={"on_bad_lines": "error"}))
    from blockops import CsvParseError

    with pytest.raises(CsvParseError, match="dirty.csv.*line 7"):
        pl.Pipeline(cfg).run()


@pytest.mark.parametrize("over,msg", [
    ({"filter": {"kind": "circle"}}, "kind must be one of"),
    ({"filter": {"radius_m": None}}, "needs"),
    ({"attack": {"kind": "teleport"}}, "attack"),
    ({"attack": {"distance_m": 5.0}}, "does not take"),
    ({"attackers": {"methd": "exact"}}, "unknown key"),
    ({"extras": {"a": 1}}, "unknown section"),
    ({"project": None}, "project"),
    ({"output": {"dir": ""}}, "dir is required"),
    ({"input": {"stage_memory": "lots"}}, r"stage_memory='lots' is not a size"),
    ({"input": {"stage_memory": -1}}, "stage_memory must be at least 1 byte"),
    ({"input": {"stage_memory": "1GiB"}}, "stage_memory='1GiB'.*must be below memory_budget"),
])
def test_config_errors(tmp_path, over, msg):
    with pytest.raises(ValueError, match=msg):
        pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, **over))


def test_toml_relative_paths_and_overwrite(tmp_path):
    import shutil

    shutil.copy(BSM_SAMPLE, tmp_path / "in.csv")
    (tmp_path / "run.toml").write_text(
        '[input]\npath = "in.csv"\nblocksize = "1MB"\n[output]\ndir = "o"\noverwrite = false\n'
        '[attackers]\nmethod = "hash"\n')
    cfg = pl.PipelineConfig.from_toml(tmp_path / "run.toml")
    assert cfg["input"]["path"] == str(tmp_path / "in.csv")
    res = pl.Pipeline(cfg).run()
    assert res.rows_out == 10_000 and res.parts >= 1
    with pytest.raises(FileExistsError, match="overwrite"):
        pl.Pipeline(cfg).run()
    (tmp_path / "bad.toml").write_text("[input\n")
    with pytest.raises(ValueError, match="invalid TOML"):
        pl.PipelineConfig.from_toml(tmp_path / "bad.toml")


def test_default_blocksize_comes_from_plan(tmp_path):
    from blockops.resources import plan
    from blockops.synth import bsm_row_bytes_estimate

    def block(budget):
        return plan(memory_budget=budget, row_bytes=bsm_row_bytes_estimate()).block_size

    # two passes on the local engine: staged parts held in memory (default stage_memory =
    # memory_budget / 8) come out of the budget the blocks are planned in
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, input={"blocksize": None}))
    assert cfg.needs_two_passes and cfg.stage_memory() == 2**27
    assert cfg.blocksize() == block(2**30 - 2**27) < block(2**30)
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, input={
        "blocksize": None, "memory_budget": "2GiB", "stage_memory": "100MiB"}))
    assert cfg.stage_memory() == 100 * 2**20
    assert cfg.blocksize() == block(2 * 2**30 - 100 * 2**20)
    # nothing held in memory: always spill, the one-pass hash run, the Dask engine
    for over in ({"input": {"blocksize": None, "stage_memory": 0}},
                 {"input": {"blocksize": None}, "attackers": {"method": "hash"}},
                 {"input": {"blocksize": None}, "engine": {"kind": "dask"}}):
        cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, **over))
        assert cfg.stage_memory() == 0
        assert cfg.blocksize() == block(2**30)


def test_classifier_stage(tmp_path):
    pytest.importorskip("sklearn")
    cfg = pl.PipelineConfig.from_dict(_cfg(
        tmp_path, BSM_SAMPLE, filter={"kind": "none"},
        attack={"kind": "positional_override_const", "min_dist": None, "max_dist": None},
        classifier={"feature_set": "xy_elev", "models": ["DecisionTree", "KNeighbors"]}))
    res = pl.Pipeline(cfg).run()
    m = pd.read_csv(res.results_path)
    assert m["Model"].tolist() == ["DecisionTreeClassifier", "KNeighborsClassifier"]
    assert {"train_accuracy", "test_f1", "test_specificity"} <= set(m.columns)
    # every attacker sits on one point: a tree separates them perfectly
    assert m.loc[0, "test_accuracy"] > 0.95
    assert m.loc[0, "Total_Train_Sample_Size"] + m.loc[0, "Total_Test_Sample_Size"] == \
        res.rows_out


def test_dask_engine_equals_local(tmp_path, capsys):
    pytest.importorskip("distributed")
    base = _cfg(tmp_path, BSM_SAMPLE, attack={"kind": "positional_swap_rand", "pool": 300,
                                              "min_dist": None, "max_dist": None})
    local = pl.Pipeline(pl.PipelineConfig.from_dict(base)).run()
    d = _cfg(tmp_path, BSM_SAMPLE, attack={"kind": "positional_swap_rand", "pool": 300,
                                           "min_dist": None, "max_dist": None},
             engine={"kind": "dask", "n_workers": 2}, output={"dir": str(tmp_path / "dk")})
    dk = pl.Pipeline(pl.PipelineConfig.from_dict(d)).run(progress=True)
    assert dk.parts > 1
    err = capsys.readouterr().err  # the parts' progress bar (tqdm.auto: text outside notebooks)
    assert "v2x (dask)" in err and f"{dk.parts}/{dk.parts}" in err
    _assert_same(_read_out(dk.output_dir), _read_out(local.output_dir))
    for k in ("rows_in", "rows_out", "rows_skipped", "rows_dropped_na", "rows_filtered_out",
              "attacker_rows", "n_ids", "n_attackers"):
        assert getattr(dk, k) == getattr(local, k), k


def test_cli_v2x_run_and_demo(tmp_path, capsys):
    from blockops.cli import main

    assert main(["demo", "--rows", "20000", "--out", str(tmp_path / "demo"), "--no-progress",
                 "--no-classifier"]) == 0
    out = capsys.readouterr().out
    assert "rows in           20,000" in out and "peak RSS" in out
    cfg = tmp_path / "demo" / "pipeline.toml"
    assert main(["v2x", "run", str(cfg), "--no-progress"]) == 0
    assert "rows out" in capsys.readouterr().out


def test_dask_wrappers_match_pandas():
    pytest.importorskip("dask")
    import dask

    from blockops import dask as bdask

    ddf = bdask.read_csv(BSM_SAMPLE, blocksize="200KB")
    assert ddf.npartitions > 3
    c = bdask.clean(ddf)
    c = c.assign(coreData_id=bdask.hex_to_int(c["coreData_id"]))
    c = bdask.filter_radius(c, center_lat=CENTER[0], center_lon=CENTER[1], radius_m=3000.0)
    c = bdask.project_xy(c, origin_lat=CENTER[0], origin_lon=CENTER[1])
    c = bdask.timestamp_parts(c)
    c = bdask.add_attackers(c)              # exact: IDs collected over all partitions
    sw = bdask.positional_swap_rand(c, pool=200)
    off = bdask.positional_offset_rand(c)
    with dask.config.set(scheduler="synchronous"):
        got_sw, got_off = dask.compute(sw, off)
    raw = R.pandas_read_csv(BSM_SAMPLE)
    e = v2x.clean(raw)
    e["coreData_id"] = v2x.hex_to_int(e["coreData_id"])
    e = v2x.filter_radius(e, center_lat=CENTER[0], center_lon=CENTER[1], radius_m=3000.0)
    e = v2x.project_xy(e, origin_lat=CENTER[0], origin_lon=CENTER[1])
    e = v2x.add_attackers(v2x.timestamp_parts(e))
    _assert_same(got_sw.sort_index(), v2x.positional_swap_rand(e, pool=200))
    _assert_same(got_off.sort_index(), v2x.positional_offset_rand(e))
    assert (sw._meta.dtypes == got_sw.dtypes).all()
    np.testing.assert_array_equal(bdask.unique_ids(c), np.unique(e["coreData_id"]))


def test_clean_filter_one_take_equals_the_operators_in_sequence(tmp_path):
    """The pipeline's combined clean + hex_to_int + radius step gives the operators' frame and
    counts, and raises for a bad ID exactly where hex_to_int after dropna would."""
    import blockops.io as bio

    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE))
    block = bio.read_csv(BSM_SAMPLE, **pl.reader_options(cfg))
    block.loc[block.index[3], "coreData_speed"] = np.nan          # dropped for NA
    block.loc[block.index[3], "coreData_id"] = "not-hex"          # ... so its bad ID is fine
    f = cfg["filter"]

    def sequence(b):
        e = v2x.clean(b)
        e["coreData_id"] = v2x.hex_to_int(e["coreData_id"])
        return v2x.filter_radius(e, center_lat=f["center_lat"], center_lon=f["center_lon"],
                                 radius_m=f["radius_m"]), len(e)

    want, n1 = sequence(block)
    counts: dict = {}
    got = pl.stage_clean_filter(block, cfg, counts=counts)
    cfg_seq = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, project=None,
                                               attack={"kind": "none"}))
    cfg_seq["clean"]["timestamps"] = False
    bare = pl.stage_clean_filter(block, cfg_seq)
    pd.testing.assert_frame_equal(bare, want)
    assert counts == {"dropped_na": len(block) - n1, "filtered_out": n1 - len(want)}
    assert len(got) == len(want) and got.index.equals(want.index)
    # a bad ID in a kept row outside the radius still raises, naming that row
    far = block.index[np.flatnonzero(~block.index.isin(want.index))[-1]]
    block.loc[far, "coreData_id"] = "zz"
    with pytest.raises(ValueError, match=f"row {far}.*'zz'"):
        pl.stage_clean_filter(block, cfg)


def _parts(d) -> list:
    import pyarrow.parquet as pq

    return [pq.read_table(p) for p in sorted(glob.glob(os.path.join(d, "part-*.parquet")))]


@pytest.mark.parametrize("attack", [
    {"kind": "positional_offset_const_per_id_with_random_direction"},
    {"kind": "positional_swap_rand", "pool": 500, "min_dist": None, "max_dist": None},
])
def test_staging_in_memory_spilled_or_mixed_gives_the_same_output(tmp_path, monkeypatch,
                                                                    attack):
    """Pass 1 -> pass 2 staging: every part in memory, every part spilled to disk, or a mix
    (a budget of about 1.5 parts) write the same parts, bit for bit, and the result says
    which happened. The spill path is watched: it must write (and delete) files when it
    spills and never run when everything fits."""
    written: dict[str, int] = {}  # path -> bytes
    real = pl._write_stage

    def spy(df, path, **kw):
        real(df, path, **kw)
        written[path] = os.path.getsize(path)

    monkeypatch.setattr(pl, "_write_stage", spy)

    def run(name, stage_memory):
        written.clear()
        cfg = pl.PipelineConfig.from_dict(_cfg(
            tmp_path / name, BSM_SAMPLE, attack=attack,
            input={"stage_memory": stage_memory, "blocksize": "128KB"}))
        res = pl.Pipeline(cfg).run()
        assert not os.path.exists(os.path.join(res.output_dir, "_stage"))
        assert not any(os.path.exists(p) for p in written)  # deleted after pass 2 read them
        return res, dict(written)

    mem, mem_files = run("mem", "1GB")
    assert mem.parts >= 4 and mem.stage_parts == mem.parts
    assert mem_files == {} and mem.spilled_parts == mem.spilled_bytes == 0
    assert mem.stage_memory == 10**9
    # the bytes held: the frames' deep memory usage, about 230 bytes a row (27 columns)
    assert 150 * mem.rows_out < mem.stage_bytes < 400 * mem.rows_out
    assert f"staging           {mem.parts} parts in memory" in mem.summary()

    disk, disk_files = run("disk", 0)
    assert disk.stage_parts == disk.stage_bytes == 0 and disk.stage_memory == 0
    assert disk.spilled_parts == disk.parts == len(disk_files)
    assert disk.spilled_bytes == sum(disk_files.values()) > 0
    assert f"0 parts in memory (0.0 MiB of 0 MiB), {disk.parts} spilled" in disk.summary()

    budget = int(1.5 * mem.stage_bytes / mem.parts)
    mix, mix_files = run("mix", budget)
    assert 0 < mix.stage_parts < mix.parts and mix.spilled_parts == len(mix_files) > 0
    assert mix.stage_parts + mix.spilled_parts == mix.parts
    assert 0 < mix.stage_bytes <= budget
    assert mix.spilled_bytes == sum(mix_files.values())

    want = _parts(mem.output_dir)
    exp = _expected(BSM_SAMPLE, pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE,
                                                                 attack=attack)))
    _assert_same(_read_out(mem.output_dir), exp)
    for res in (disk, mix):
        got = _parts(res.output_dir)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.schema.equals(w.schema) and g.equals(w)
        for f in ("rows_out", "attacker_rows", "n_ids", "n_attackers", "rows_filtered_out"):
            assert getattr(res, f) == getattr(mem, f), f


def test_background_writer_bounds_pending_writes_and_raises_their_errors(tmp_path):
    import threading

    gate = threading.Event()
    done: list[str] = []

    def slow(df, path):
        gate.wait(5)
        if path == "bad":
            raise OSError("disk full at bad")
        done.append(path)

    w = pl._BackgroundWriter(2)
    try:
        w.submit(None, "a", slow, max_pending=2)
        w.submit(None, "b", slow, max_pending=2)
        assert len(w._pending) == 2  # both running, nothing waited for
        threading.Timer(0.2, gate.set).start()
        w.submit(None, "c", slow, max_pending=2)  # waits for "a" first
        assert "a" in done and len(w._pending) <= 2
        w.submit(None, "bad", slow)  # max_pending=1: waits until nothing is pending
        assert {"a", "b", "c"} <= set(done)
        with pytest.raises(OSError, match="disk full at bad"):
            w.wait()
    finally:
        gate.set()
        w.close()


def test_summary_throughput_leaves_out_the_classifier():
    """The classifier trains after the data has streamed through: rows/s and MB/s are those of
    the streaming part, and the line says so."""
    from blockops.v2x.pipeline import PipelineResult

    r = PipelineResult(engine="local")
    r.rows_in, r.bytes_in, r.seconds = 300_000, 82e6, 10.0
    r.stage_seconds = {"read": 1.0, "classify": 8.0}
    line = next(x for x in r.summary().splitlines() if x.startswith("time"))
    assert "0.15 M rows/s" in line and "41 MB/s" in line and "classifier's 8.00 s" in line
    r.stage_seconds = {"read": 1.0}
    line = next(x for x in r.summary().splitlines() if x.startswith("time"))
    assert "0.03 M rows/s" in line and "classifier" not in line


@pytest.mark.parametrize("n_workers, want", [(None, (4, 2, 2 * 2**30)), (2, (2, 1, 4 * 2**30))])
def test_dask_engine_memory_limit_is_per_worker(tmp_path, monkeypatch, n_workers, want):
    """LocalCluster(memory_limit=) is per worker: with an 8 GiB budget on 8 CPUs the 4 planned
    workers get 2 GiB each (the engine divided by the worker count a second time: 0.5 GiB), and
    [engine] n_workers = 2 splits the same budget in two."""
    distributed = pytest.importorskip("distributed")
    from blockops import resources

    real_plan = resources.plan
    monkeypatch.setattr(resources, "plan", lambda **kw: real_plan(
        **{**kw, "memory_budget": 8 * 2**30, "n_cpus": 8}))
    seen = {}

    class FakeCluster:
        def __init__(self, **kw):
            seen.update(kw)

    monkeypatch.setattr(distributed, "LocalCluster", FakeCluster)
    monkeypatch.setattr(distributed, "Client", lambda cluster: cluster)
    from blockops.v2x import _dask_engine

    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE,
                                           engine={"kind": "dask", "n_workers": n_workers}))
    client, cluster = _dask_engine._client(cfg)
    assert isinstance(cluster, FakeCluster)
    assert (seen["n_workers"], seen["threads_per_worker"], seen["memory_limit"]) == want
    assert seen["n_workers"] * seen["memory_limit"] == 8 * 2**30


ORIGINAL_R = 6_371_000.0  # the original pipeline's sphere


def _boundary_file(tmp_path, center, radius, n=300):
    """The sample's first n rows moved to points around a circle of ``radius`` metres: a third
    decided differently by the two spheres (exact distance on the original's 6,371,000 m just
    inside, so 6.5 mm outside on the mean sphere at 4.7 km), the rest clearly in or out.
    Coordinates are written with 17 digits, so the reader gets these exact doubles."""
    from reference.geo_ref import destination_mp

    lines = open(BSM_SAMPLE, encoding="utf-8").read().splitlines()
    head, rows = lines[0], lines[1:n + 1]
    r = np.random.default_rng(17)
    frac = np.where(np.arange(n) % 3 == 0, 1 - 0.7e-6, r.uniform(0.5, 1.5, n))
    lat, lon = destination_mp(np.full(n, center[0]), np.full(n, center[1]),
                              r.uniform(0, 360, n), frac * radius, ORIGINAL_R)
    out = []
    for row, la, lo in zip(rows, lat, lon):
        f = row.split(",")
        f[10], f[11] = repr(float(la)), repr(float(lo))
        f[-1] = f"POINT ({float(lo)!r} {float(la)!r})"
        out.append(",".join(f))
    p = tmp_path / "boundary.csv"
    p.write_text("\n".join([head] + out) + "\n")
    return p, lat, lon


@pytest.mark.parametrize("dates", [False, True], ids=["one_take", "operators"])
def test_filter_earth_radius_reproduces_the_original_selection(tmp_path, dates):
    """[filter] earth_radius_m = 6371000 keeps exactly the rows the original's sphere keeps,
    the default mean radius drops the ones just inside its circle; both code paths of the
    filter (the one-take clean+filter and the operator sequence used with a date range)."""
    from reference.geo_ref import haversine_mp

    center, radius = (41.5430216, -106.0831353), 4_700.0
    src, lat, lon = _boundary_file(tmp_path, center, radius)
    original = np.flatnonzero(haversine_mp(lat, lon, *center, ORIGINAL_R) <= radius)
    mean = np.flatnonzero(haversine_mp(lat, lon, *center, 6_371_008.8) <= radius)
    assert len(original) - len(mean) >= 90 and set(mean) < set(original)
    filt = {"center_lat": center[0], "center_lon": center[1], "radius_m": radius}
    if dates:
        filt["start"] = "2000-01-01"
    kept = {}
    for name, er in (("original", ORIGINAL_R), ("default", None)):
        f = dict(filt) if er is None else {**filt, "earth_radius_m": er}
        cfg = pl.PipelineConfig.from_dict(_cfg(
            tmp_path, src, filter=f, project=None, attackers={"method": "hash"},
            attack={"kind": "none"}, output={"dir": str(tmp_path / name)}))
        kept[name] = _read_out(pl.Pipeline(cfg).run().output_dir).index.to_numpy()
    np.testing.assert_array_equal(kept["original"], original)
    np.testing.assert_array_equal(kept["default"], mean)


def test_project_earth_radius_and_config_checks(tmp_path):
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE))
    assert cfg["filter"]["earth_radius_m"] == cfg["project"]["earth_radius_m"] == 6_371_008.8
    df = v2x.clean(pd.read_csv(BSM_SAMPLE, nrows=50))
    got = pl.stage_clean_filter(df, pl.PipelineConfig.from_dict(_cfg(
        tmp_path, BSM_SAMPLE, filter={"kind": "none"},
        project={"earth_radius_m": ORIGINAL_R})), 1)
    want = v2x.project_xy(df, origin_lat=CENTER[0], origin_lon=CENTER[1],
                          earth_radius_m=ORIGINAL_R)
    np.testing.assert_array_equal(got["x_pos"].to_numpy(), want["x_pos"].to_numpy())
    np.testing.assert_array_equal(got["y_pos"].to_numpy(), want["y_pos"].to_numpy())
    default = v2x.project_xy(df, origin_lat=CENTER[0], origin_lon=CENTER[1])
    np.testing.assert_allclose(want["y_pos"].to_numpy(),
                               default["y_pos"].to_numpy() * (ORIGINAL_R / 6_371_008.8),
                               rtol=1e-13, atol=1e-9)
    for sec in ("filter", "project"):
        for bad in (0, -1.0, float("nan"), "6371000", True):
            with pytest.raises(ValueError, match=rf"\[{sec}\] earth_radius_m"):
                pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE,
                                                 **{sec: {"earth_radius_m": bad}}))


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_compressed_and_url_input_give_the_same_output(tmp_path, engine):
    """[input] compression (inferred from .gz, or named) and a URL with storage_options (an
    HTTP server on 127.0.0.1, which the Dask workers reach too) give the plain file's output."""
    import gzip
    import http.server
    import threading

    if engine == "dask":
        pytest.importorskip("distributed")
    pytest.importorskip("aiohttp")
    from test_csv_remote import _RangeHandler

    eng = {"kind": engine, "n_workers": 1} if engine == "dask" else {"kind": "local"}
    att = {"kind": "positional_offset_rand"}
    plain = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(
        tmp_path, BSM_SAMPLE, attack=att, engine=eng, output={"dir": str(tmp_path / "p")}))).run()
    served = tmp_path / "served"
    served.mkdir()
    gz = served / "in.gz"  # not .csv.gz: named below, not inferred
    gz.write_bytes(gzip.compress(open(BSM_SAMPLE, "rb").read()))
    (served / "in.csv.gz").write_bytes(gz.read_bytes())

    class Handler(_RangeHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(served), **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/in.csv.gz"
    try:
        for src, comp, opts in ((gz, "gzip", None), (url, "infer", {"block_size": 1 << 16})):
            res = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(
                tmp_path, src, attack=att, engine=eng, output={"dir": str(tmp_path / "c")},
                input={"compression": comp, "storage_options": opts}))).run()
            _assert_same(_read_out(res.output_dir), _read_out(plain.output_dir))
            assert res.rows_in == plain.rows_in == 10_000 and res.rows_out == plain.rows_out
    finally:
        srv.shutdown()
        srv.server_close()


def test_compression_and_storage_options_config_checks(tmp_path):
    for over, msg in (({"input": {"compression": "zip"}}, "compression must be"),
                      ({"input": {"storage_options": "x"}}, "storage_options must be a table"),
                      ):
        with pytest.raises(ValueError, match=msg):
            pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, **over))
    # a URL output with the classifier stage: accepted (test_classifier_stage_with_url_output)
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, output={"dir": "s3://b/out"},
                                           classifier={"feature_set": "xy_elev"}))
    assert cfg.has_classifier and cfg["output"]["dir"] == "s3://b/out"
    with pytest.raises(ValueError, match=r"\[output\] storage_options must be a table"):
        pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, output={"storage_options": 1}))
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, "s3://bucket/x.csv",
                                           input={"compression": "none"}))
    assert cfg["input"]["path"] == "s3://bucket/x.csv"
    assert pl.reader_options(cfg)["compression"] is None


def _serve(directory):
    """A Range-serving HTTP server for ``directory`` on 127.0.0.1 (a thread) -> (URL, server)."""
    import http.server
    import threading

    from test_csv_remote import _RangeHandler

    class Handler(_RangeHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(directory), **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}", srv


def test_dask_engine_splits_remote_files_like_local(tmp_path):
    """Several remote plain files on the Dask engine (HTTP; the scan tasks and the partitions
    run on a LocalCluster's worker process, by ranged reads): split into ranges and numbered
    globally, so the row-keyed draws, the bad-row count and the output are the local
    engine's on the same files on disk."""
    pytest.importorskip("distributed")
    pytest.importorskip("aiohttp")
    lines = open(BSM_SAMPLE, "rb").read().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    k = len(rows) // 2
    served = tmp_path / "served"
    served.mkdir()
    (served / "p0.csv").write_bytes(header + b"".join(rows[:k]) + b"bad,row\n")
    (served / "p1.csv").write_bytes(header + b"".join(rows[k:k + 100]) + b"1,2,3\n"
                                    + b"".join(rows[k + 100:]))
    att = {"kind": "positional_offset_rand"}
    local = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(
        tmp_path, BSM_SAMPLE, attack=att, input={"path": [str(served / "p0.csv"),
                                                          str(served / "p1.csv")]}))).run()
    assert local.rows_skipped == 2 and local.rows_in == len(rows) + 2
    url, srv = _serve(served)
    try:
        res = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(
            tmp_path, BSM_SAMPLE, attack=att, engine={"kind": "dask", "n_workers": 1},
            output={"dir": str(tmp_path / "dk")},
            input={"path": [f"{url}/p0.csv", f"{url}/p1.csv"], "blocksize": "256KB"}))).run()
    finally:
        srv.shutdown()
        srv.server_close()
    assert res.parts > 4  # 2.7 MB in 256 KB ranges
    assert (res.rows_in, res.rows_skipped, res.rows_out) == \
        (local.rows_in, local.rows_skipped, local.rows_out)
    _assert_same(_read_out(res.output_dir), _read_out(local.output_dir))


@pytest.mark.parametrize("store", ["s3", "memory"])
def test_classifier_stage_with_url_output(tmp_path, store):
    """[classifier] with [output] dir a URL (moto's S3 server through s3fs, or memory://): it
    trains on the parts the manifest lists in the store and writes classifier_results.csv
    beside them (or at a [classifier] results URL), with the metrics of a local output."""
    pytest.importorskip("sklearn")
    import io

    over = dict(filter={"kind": "none"},
                attack={"kind": "positional_override_const", "min_dist": None, "max_dist": None},
                classifier={"feature_set": "xy_elev", "models": ["DecisionTree", "KNeighbors"]})
    local = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, **over))).run()
    want = pd.read_csv(local.results_path)
    metrics = [c for c in want.columns if c.startswith(("train_", "test_"))
               or c.endswith("Sample_Size") or c == "Model"]
    assert len(metrics) > 10
    with _url_store(store) as (base, opts, fs):
        cfg = pl.PipelineConfig.from_dict(_cfg(
            tmp_path, BSM_SAMPLE, output={"dir": f"{base}/run", "storage_options": opts},
            **over))
        res = pl.Pipeline(cfg).run()
        assert res.results_path == f"{base}/run/classifier_results.csv"
        got = pd.read_csv(io.BytesIO(fs.cat_file(res.results_path)))
        pd.testing.assert_frame_equal(got[metrics], want[metrics])
        parts = v2x.output_parts(f"{base}/run", storage_options=opts)
        assert len(parts) == res.parts > 1 and parts[0] == f"{base}/run/part-00000.parquet"
        # a results URL of its own (the output's storage_options)
        over["classifier"]["results"] = f"{base}/metrics/r.csv"
        cfg = pl.PipelineConfig.from_dict(_cfg(
            tmp_path, BSM_SAMPLE, output={"dir": f"{base}/run", "storage_options": opts},
            **over))
        res = pl.Pipeline(cfg).run()
        got = pd.read_csv(io.BytesIO(fs.cat_file(f"{base}/metrics/r.csv")))
        pd.testing.assert_frame_equal(got[metrics], want[metrics])
        # an incomplete output (no manifest) is refused, as on disk
        fs.rm(f"{base}/run/_manifest.json")
        with pytest.raises(FileNotFoundError, match="_manifest.json"):
            v2x.output_parts(f"{base}/run", storage_options=opts)


@contextlib.contextmanager
def _url_store(store):
    """(base URL, storage_options, fsspec file system) of an empty place to write: a bucket on
    moto's S3 server on 127.0.0.1, or a memory:// directory."""
    if store == "memory":
        fsspec = pytest.importorskip("fsspec")
        fs = fsspec.filesystem("memory")
        base = f"memory://bo-cls-{os.getpid()}"
        try:
            yield base, None, fs
        finally:
            if fs.exists(base):
                fs.rm(base, recursive=True)
        return
    pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    import boto3
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    try:
        url = f"http://127.0.0.1:{srv._server.server_port}"
        boto3.client("s3", endpoint_url=url, aws_access_key_id="testing",
                     aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket="bo-cls")
        opts = {"key": "testing", "secret": "testing", "skip_instance_cache": True,
                "client_kwargs": {"endpoint_url": url, "region_name": "us-east-1"}}
        yield "s3://bo-cls", opts, s3fs.S3FileSystem(**opts)
    finally:
        srv.stop()


@pytest.mark.parametrize("two_pass,engine", [(False, "local"), (True, "local"), (True, "dask")])
def test_output_to_s3(tmp_path, two_pass, engine):
    """[output] dir on an S3-compatible store (moto's server on 127.0.0.1, through s3fs and
    storage_options): the same parts as a local output, the manifest written last, and an
    overwrite that replaces both."""
    pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    import json

    import boto3
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    try:
        url = f"http://127.0.0.1:{srv._server.server_port}"
        boto3.client("s3", endpoint_url=url, aws_access_key_id="testing",
                     aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket="bo-out")
        opts = {"key": "testing", "secret": "testing", "skip_instance_cache": True,
                "client_kwargs": {"endpoint_url": url, "region_name": "us-east-1"}}
        over = {"attackers": {"method": "exact" if two_pass else "hash"},
                "attack": {"kind": "positional_offset_rand"}}
        if engine == "dask":
            pytest.importorskip("distributed")
            over["engine"] = {"kind": "dask", "n_workers": 1}
        local = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, **over))).run()
        cfg = pl.PipelineConfig.from_dict(_cfg(
            tmp_path, BSM_SAMPLE, output={"dir": "s3://bo-out/run", "storage_options": opts},
            **over))
        assert cfg.needs_two_passes == two_pass
        for _ in range(2):  # the second run overwrites the first
            res = pl.Pipeline(cfg).run()
        fs = s3fs.S3FileSystem(**opts)
        parts = sorted(fs.glob("bo-out/run/part-*.parquet"))
        assert len(parts) == res.parts == local.parts > 1  # ("local": the same engine, on disk)
        man = json.loads(fs.cat_file("bo-out/run/_manifest.json"))
        assert [m["file"] for m in man["parts"]] == [p.rsplit("/", 1)[1] for p in parts]
        assert sum(m["rows"] for m in man["parts"]) == man["rows_out"] == res.rows_out \
            == local.rows_out
        got = pd.concat([pd.read_parquet(fs.open(p, "rb")) for p in parts])
        got.index.name = None
        _assert_same(got.sort_index(), _read_out(local.output_dir))
        assert (res.n_ids, res.n_attackers) == (local.n_ids, local.n_attackers)
    finally:
        srv.stop()


def test_read_ahead_keeps_order_raises_in_place_and_stops():
    """The local engine parses block k+1 on a thread while block k is processed: the items
    come in order, an error of the source is raised by the ``next`` that would have returned
    its item (the items before it are all handed out), and closing early stops the thread
    without it pulling more than the one item it holds."""
    import threading

    def source(n, fail_at=None):
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"bad block {i}")
            yield i

    assert list(pl._ReadAhead(source(50))) == list(range(50))
    assert list(pl._ReadAhead(source(0))) == []

    got = []
    ra = pl._ReadAhead(source(10, fail_at=4))
    with pytest.raises(ValueError, match="bad block 4"):
        for i in ra:
            got.append(i)
    assert got == [0, 1, 2, 3]
    ra.close()

    pulled = []

    def counting():
        for i in range(1000):
            pulled.append(i)
            yield i

    ra = pl._ReadAhead(counting())
    assert next(ra) == 0
    ra.close()
    assert not ra._t.is_alive()
    assert len(pulled) <= 3  # the item handed out, the one queued, at most one being made
    assert not any(t.name == "blockops-v2x-read-ahead" and t.is_alive()
                   for t in threading.enumerate())


def test_bad_vehicle_id_raises_unless_its_row_is_dropped(tmp_path):
    """As in the operators' sequence (clean with dropna, then hex_to_int, then the radius
    filter): an invalid ID in a row with a missing value is dropped with the row; in a complete
    row it raises, inside the radius or not, with hex_to_int's message. (The pipeline converts
    the block's IDs at once and checks only the rows dropna keeps.)"""
    lines = open(BSM_SAMPLE, encoding="utf-8").read().splitlines()
    head, rows = lines[0], lines[1:2001]
    col = head.split(",").index("coreData_id")

    def with_id(i, value, blank=None):
        f = rows[i].split(",")
        f[col] = value
        if blank is not None:
            f[blank] = ""
        rows[i] = ",".join(f)

    with_id(9, "zzzz", blank=16)  # also missing its speed: dropna drops it first
    src = tmp_path / "ids.csv"
    src.write_text("\n".join([head] + rows) + "\n")
    res = pl.Pipeline(pl.PipelineConfig.from_dict(_cfg(tmp_path, src))).run()
    assert res.rows_dropped_na == 1 and res.rows_in == 2000
    with_id(30, "zzzz")
    src.write_text("\n".join([head] + rows) + "\n")
    cfg = _cfg(tmp_path, src, output={"overwrite": True})
    with pytest.raises(ValueError, match=r"hex_to_int: coreData_id at .*'zzzz' is not a hex ID"):
        pl.Pipeline(pl.PipelineConfig.from_dict(cfg)).run()


def test_progress_bars_name_both_passes_and_change_nothing(tmp_path, capsys):
    """progress=True on a two-pass run: a bar in bytes for pass 1 and a bar in parts for pass 2,
    each labelled with its pass (the first one's ETA is not the run's); one-pass runs have one
    bar for the whole job. The output is the same with and without the bars."""
    cfg = _cfg(tmp_path, BSM_SAMPLE)
    pl.Pipeline(pl.PipelineConfig.from_dict(cfg)).run()
    quiet = _read_out(str(tmp_path / "out"))
    capsys.readouterr()
    cfg["output"] = {"dir": str(tmp_path / "out2")}
    res = pl.Pipeline(pl.PipelineConfig.from_dict(cfg)).run(progress=True)
    err = capsys.readouterr().err
    assert "v2x pass 1/2: read, clean, filter" in err
    assert "v2x pass 2/2: attack, write: 100%" in err and f"{res.parts}/{res.parts}" in err
    pd.testing.assert_frame_equal(_read_out(str(tmp_path / "out2")), quiet)
    one = _cfg(tmp_path, BSM_SAMPLE, attackers={"method": "hash"},
               output={"dir": str(tmp_path / "out3")})
    pl.Pipeline(pl.PipelineConfig.from_dict(one)).run(progress=True)
    err = capsys.readouterr().err
    assert "v2x: read, clean, filter, attack, write" in err and "pass 2/2" not in err
