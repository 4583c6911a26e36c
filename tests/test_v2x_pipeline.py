"""blockops.v2x.Pipeline: end to end on the shared sample and synthetic files, against the
operators applied to the whole file in pandas; block-size invariance; row accounting; config
errors; the Dask engine on a LocalCluster; the CLI."""
from __future__ import annotations

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
    # memory_budget / 4) come out of the budget the blocks are planned in
    cfg = pl.PipelineConfig.from_dict(_cfg(tmp_path, BSM_SAMPLE, input={"blocksize": None}))
    assert cfg.needs_two_passes and cfg.stage_memory() == 2**28
    assert cfg.blocksize() == block(2**30 - 2**28) < block(2**30)
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


def test_dask_engine_equals_local(tmp_path):
    pytest.importorskip("distributed")
    base = _cfg(tmp_path, BSM_SAMPLE, attack={"kind": "positional_swap_rand", "pool": 300,
                                              "min_dist": None, "max_dist": None})
    local = pl.Pipeline(pl.PipelineConfig.from_dict(base)).run()
    d = _cfg(tmp_path, BSM_SAMPLE, attack={"kind": "positional_swap_rand", "pool": 300,
                                           "min_dist": None, "max_dist": None},
             engine={"kind": "dask", "n_workers": 2}, output={"dir": str(tmp_path / "dk")})
    dk = pl.Pipeline(pl.PipelineConfig.from_dict(d)).run()
    assert dk.parts > 1
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

    def spy(df, path):
        real(df, path)
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
