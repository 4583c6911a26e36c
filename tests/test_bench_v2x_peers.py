"""The polars and DuckDB versions of the V2X job (blockops._bench.v2x_peers, issue 18 section 2)
at a small size, against the blockops pipeline on the same file.

They must keep exactly blockops' rows with blockops' ``isAttacker`` (the attacker IDs are chosen
exactly as the original chooses them), the same columns and types, and the same values in every
column the attack does not touch; the attack must move each attacker vehicle by one constant
vector of 25-250 m (their offsets come from their own hash functions, so they differ from
blockops' by design). Also: the benchmark's output checks (peer rows, the cluster engines' bit
for bit digest) tell a real difference from an explained one, and one ``main()`` run drives
every side through its own process.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("sklearn")

from blockops._bench import v2x as bench  # noqa: E402
from blockops._bench import v2x_peers as peers  # noqa: E402

ROWS = 6000
R = peers.EARTH_RADIUS_M
CLAT, CLON = bench.CENTER_LAT, bench.CENTER_LON

# Lines a careful reader must drop: a short row (a bad line for blockops; null fields for the
# others), a POINT that is no number (a bad line for blockops' POINT converter) and an empty
# vehicle ID (a missing value). Serial numbers far above the generated ones.
HOSTILE = [
    "07/31/2019 12:41:59 PM,bsmTx,0a0b0c0d,1,1,0,900001,07/31/2019 12:41:59 PM,0a0b0c0d,100,"
    "41.5430216,-106.0831353",
    "07/31/2019 12:41:59 PM,bsmTx,0a0b0c0d,1,1,0,900002,07/31/2019 12:41:59 PM,0a0b0c0d,100,"
    "41.5430216,-106.0831353,4.5,4.5,1400.0,0.0,10.0,90,POINT (x 41.5430216)",
    "07/31/2019 12:41:59 PM,bsmTx,0a0b0c0d,1,1,0,900003,07/31/2019 12:41:59 PM,,100,"
    "41.5430216,-106.0831353,4.5,4.5,1400.0,0.0,10.0,90,POINT (-106.0831353 41.5430216)",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from blockops.synth import write_bsm_csv

    d = tmp_path_factory.mktemp("peers")
    path = d / "bsm.csv"
    # 150 vehicles (~45 attackers), 2 % of rows with one empty field
    write_bsm_csv(path, rows=ROWS, seed=11, vehicles=150, null_fraction=0.02,
                  center=(CLAT, CLON))
    with open(path, "a", newline="") as f:
        f.write("".join(line + "\r\n" for line in HOSTILE))
    return str(path)


def _spec(side, path, out_dir):
    return {"side": side, "path": path, "out_dir": str(out_dir), "center_lat": CLAT,
            "center_lon": CLON, "radius_m": bench.DEFAULT_RADIUS_M, "ratio": 0.3, "seed": 42,
            "min_dist": 25, "max_dist": 250, "blocksize": "256KB"}


@pytest.fixture(scope="module")
def blockops_out(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("bo") / "out"
    res = bench.run_blockops(_spec("blockops", data, out), {})
    assert res["rows_skipped"] == 2  # the short row and the bad POINT
    df = pd.read_parquet(out).reset_index().set_index(bench.ROW_ID).sort_index()
    df = df.drop(columns="row")
    df.attrs["dir"] = out
    return df


def _arrow_types(d) -> dict:
    import pyarrow as pa
    import pyarrow.dataset as ds

    return {f.name: "string" if f.type == pa.large_string() else str(f.type)
            for f in ds.dataset(d, format="parquet").schema if f.name not in ("row", )}


def _run_peer(side, data, out):
    pytest.importorskip(side)
    stages: dict = {}
    res = peers.PEERS[side](_spec(side, data, out), stages)
    assert set(stages) and all(v >= 0 for v in stages.values())
    return res, pd.read_parquet(out).set_index(bench.ROW_ID).sort_index()


@pytest.mark.parametrize("side", ["polars", "duckdb"])
def test_peer_keeps_blockops_rows_attackers_and_values(data, blockops_out, tmp_path, side):
    bo = blockops_out
    assert 0.3 * ROWS < len(bo) < 0.8 * ROWS
    assert not set(bo.index) & {900001, 900002, 900003}
    res, got = _run_peer(side, data, tmp_path / side)
    assert res["rows_out"] == len(got)

    # the same rows, the same attackers
    np.testing.assert_array_equal(got.index.to_numpy(), bo.index.to_numpy())
    np.testing.assert_array_equal(got["isAttacker"].to_numpy(), bo["isAttacker"].to_numpy())
    att_ids = set(bo.loc[bo.isAttacker == 1, "coreData_id"])
    assert res["attacker_ids"] == len(att_ids) > 10
    assert res["ids"] == bo["coreData_id"].nunique()

    # the same columns in the same order and Arrow types (text: string or large_string)
    assert list(got.columns) == list(bo.columns)
    assert _arrow_types(tmp_path / side) == _arrow_types(bo.attrs["dir"])

    # every column the attack leaves alone: equal (strings, integers, floats read from text)
    for c in bo.columns.drop(["x_pos", "y_pos"]):
        assert got[c].tolist() == bo[c].tolist(), c
    # projected positions of the regular rows: the same formula, to rounding
    reg = bo["isAttacker"].to_numpy() == 0
    for c in ("x_pos", "y_pos"):
        np.testing.assert_allclose(got[c].to_numpy()[reg], bo[c].to_numpy()[reg], rtol=0,
                                   atol=1e-6, err_msg=c)

    # attacker rows: one vector per vehicle, 25..250 m long, not the same for all vehicles
    lat0 = math.radians(CLAT)
    x0 = R * np.radians(got["coreData_position_long"].to_numpy() - CLON) * math.cos(lat0)
    y0 = R * np.radians(got["coreData_position_lat"].to_numpy() - CLAT)
    off = pd.DataFrame({"id": got["coreData_id"].to_numpy(),
                        "dx": got["x_pos"].to_numpy() - x0, "dy": got["y_pos"].to_numpy() - y0})
    att = off[~reg]
    per_id = att.groupby("id").agg(["min", "max"])
    assert (per_id[("dx", "max")] - per_id[("dx", "min")]).max() < 1e-6
    assert (per_id[("dy", "max")] - per_id[("dy", "min")]).max() < 1e-6
    dist = np.hypot(per_id[("dx", "min")], per_id[("dy", "min")])
    assert dist.between(25 - 1e-6, 250 + 1e-6).all() and dist.nunique() > 5
    assert np.abs(off.loc[reg, ["dx", "dy"]].to_numpy()).max() < 1e-6


def test_exact_attackers_is_blockops_select_attackers():
    from blockops.v2x import select_attackers

    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 3, 10, 151, 2000):
        ids = np.unique(rng.integers(0, 2**32, size=n * 2))[:n]
        rng.shuffle(ids)  # the split sorts first
        for ratio in (0.0, 0.3, 0.5, 1.0):
            want = select_attackers(ids, ratio=ratio, seed=42, method="exact")
            got = peers.exact_attackers(ids, ratio=ratio, seed=42)
            np.testing.assert_array_equal(got, want, err_msg=f"n={n} ratio={ratio}")


def _labels(ids, labels, n_att_ids=1):
    ids = np.asarray(ids, np.int64)
    o = np.argsort(ids)
    return bench.Labels(ids[o], np.asarray(labels, np.int8)[o], n_att_ids)


def test_compare_peer_explains_only_rows_on_the_circle(tmp_path):
    r = 8000.0
    on_edge = CLAT + math.degrees(r * (1 + 1e-8) / bench.HAVERSINE_R)  # 80 um outside
    inside = CLAT + math.degrees(0.5 * r / bench.HAVERSINE_R)
    csv = tmp_path / "pts.csv"
    csv.write_text(f"{bench.ROW_ID},coreData_position_lat,coreData_position_long\n"
                   f"1,{inside},{CLON}\n2,{inside},{CLON}\n7,{on_edge},{CLON}\n"
                   f"8,{inside},{CLON}\n")
    kw = dict(name="polars", csv_path=str(csv), center_lat=CLAT, center_lon=CLON, radius_m=r)
    bo = _labels([1, 2], [0, 1])
    ok, text = bench.compare_peer(bo, _labels([2, 1], [1, 0]), **kw)
    assert ok and text.startswith("ok: same 2 rows")
    ok, text = bench.compare_peer(bo, _labels([1, 2, 7], [0, 1, 0]), **kw)
    assert ok and "on the circle's edge" in text and "1 only in polars (1 of them" in text
    ok, text = bench.compare_peer(_labels([1, 2, 7], [0, 1, 0]), bo, **kw)  # either side
    assert ok and "1 only in blockops, 0 only in polars (1 of them" in text
    ok, text = bench.compare_peer(bo, _labels([1, 2, 8], [0, 1, 0]), **kw)
    assert not ok and text.startswith("MISMATCH") and "(0 of them on the circle's edge)" in text
    ok, text = bench.compare_peer(bo, _labels([1, 2], [1, 1]), **kw)
    assert not ok and "isAttacker differs on 1 of 2 common rows" in text
    ok, text = bench.compare_peer(bo, _labels([1, 2], [0, 1], n_att_ids=2), **kw)
    assert not ok and "attacker IDs 2 vs 1" in text
    ok, text = bench.compare_peer(bo, _labels([1, 1, 2], [0, 0, 1]), **kw)
    assert not ok and "polars output repeats row keys" in text


def _write_parts(d, df, cuts):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d.mkdir()
    for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(df)])):
        pq.write_table(pa.Table.from_pandas(df.iloc[a:b]), d / f"part-{k:05d}.parquet")
    return str(d)


def test_output_digest_is_partition_free_and_bit_exact(tmp_path):
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 9, n).astype(np.int8),
                       "s": rng.choice(["a", "bb", "ccc"], n)},
                      index=pd.Index(np.arange(n, dtype=np.int64) * 3, name="row"))
    a = bench.output_digest(_write_parts(tmp_path / "a", df, [100, 101, 400]))
    b = bench.output_digest(_write_parts(tmp_path / "b", df.sample(frac=1, random_state=1),
                                         [250]))  # other parts, other row order
    assert a["rows"] == n and a["unique_rows"]
    assert bench.compare_digest(a, b, "blockops-ray")[0]
    for name, change in [("sign of a zero", lambda d: d.assign(x=np.where(
                              np.arange(n) == 7, -0.0, d["x"]))),
                         ("one ulp", lambda d: d.assign(x=np.where(
                             np.arange(n) == 7, np.nextafter(d["x"], 9), d["x"]))),
                         ("one string", lambda d: d.assign(s=np.where(
                             np.arange(n) == 9, "zzz", d["s"]).astype(object))),
                         ("one int", lambda d: d.assign(k=np.where(
                             np.arange(n) == 9, 99, d["k"]).astype(np.int8)))]:
        base = df.assign(x=np.where(np.arange(n) == 7, 0.0, df["x"])) \
            if name == "sign of a zero" else df
        ref = bench.output_digest(_write_parts(tmp_path / f"r{name}", base, [50]))
        other = bench.output_digest(_write_parts(tmp_path / f"o{name}", change(base), [50]))
        ok, text = bench.compare_digest(ref, other, "blockops-dask")
        assert not ok and text.startswith("MISMATCH"), name
    ok, text = bench.compare_digest(a, bench.output_digest(
        _write_parts(tmp_path / "t", df.astype({"k": np.int16}), [10])), "blockops-dask")
    assert not ok and "schemas differ" in text
    dup = bench.output_digest(_write_parts(tmp_path / "d", pd.concat([df, df.iloc[:1]]), [5]))
    assert not bench.compare_digest(a, dup, "blockops-dask")[0]


def test_every_side_in_one_command(tmp_path, capsys):
    """``main()`` at a tiny size: blockops, both peers and both cluster engines each in their
    own process on the same file, every check passed (the exit code says so)."""
    pytest.importorskip("polars")
    pytest.importorskip("duckdb")
    pytest.importorskip("distributed")
    pytest.importorskip("ray")
    sides = "polars,duckdb,blockops-dask,blockops-ray,blockops"
    rc = bench.main(["--rows", "4000", "--sides", sides, "--micro-rows", "0",
                     "--out-dir", str(tmp_path), "--timeout", "300", "--workers", "2"])
    cap = capsys.readouterr()
    assert rc == 0, cap.out + cap.err[-3000:]
    out = cap.out
    for side in ("polars", "duckdb"):
        assert f"| 4,000 | {side} | ok |" in out and "ok: same" in out
    for side in ("blockops-dask", "blockops-ray"):
        line = next(ln for ln in out.splitlines() if ln.startswith(f"| 4,000 | {side} | ok |"))
        assert "ok: the local engine's output bit for bit" in line
        assert " 2 x max " in line or " 1 x max " in line  # the workers' peak RSS
    assert "| 4,000 | blockops | ok |" in out and "reference" in out
    # blockops ran first (the reference of the engines' check), whatever --sides said
    assert cap.err.index("  blockops [4,000 rows]") < cap.err.index("  polars [4,000 rows]")


def test_cli_rejects_unknown_sides(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--sides", "blockops,spark"])
    assert "--sides: choose from original, blockops, polars, duckdb" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--sides", "blockops-dask", "--worker-memory", "half"])
    assert "--worker-memory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        bench.main(["--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # the defaults issue 18 asks for
    assert "default 1800: 30 minutes" in text and "'20GiB' (default)" in text
