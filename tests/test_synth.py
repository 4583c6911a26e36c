"""blockops.synth.write_bsm_csv: format of the shared BSM sample, determinism, realism."""
from __future__ import annotations

import hashlib
import math
import os
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyarrow")

from blockops import synth  # noqa: E402
from blockops.synth import BLOCK_ROWS, BSM_COLUMNS, write_bsm_csv  # noqa: E402

from csv_util import BSM_SAMPLE as SAMPLE  # noqa: E402  (shared sample or the shipped copy)

TS = r"(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/\d{4} (0[1-9]|1[0-2]):[0-5]\d:[0-5]\d (AM|PM)"
HEX8 = r"[0-9a-f]{8}"
UINT = r"(0|[1-9]\d*)"
FLOAT = r"-?\d+\.\d+(e-\d\d)?|-?\d(\.\d+)?e-\d\d"
FIELD_RE = {
    "metadata_generatedAt": TS,
    "metadata_recordType": r"bsmTx",
    "metadata_serialId_streamId": HEX8,
    "metadata_serialId_bundleSize": r"1",
    "metadata_serialId_bundleId": UINT,
    "metadata_serialId_recordId": r"0",
    "metadata_serialId_serialNumber": UINT,
    "metadata_receivedAt": TS,
    "coreData_id": HEX8,
    "coreData_secMark": UINT,
    "coreData_position_lat": FLOAT,
    "coreData_position_long": FLOAT,
    "coreData_accuracy_semiMajor": FLOAT,
    "coreData_accuracy_semiMinor": FLOAT,
    "coreData_elevation": FLOAT,
    "coreData_accelset_accelYaw": FLOAT,
    "coreData_speed": FLOAT,
    "coreData_heading": r"(\d|[1-9]\d|[12]\d\d|3[0-5]\d)",
    "coreData_position": r"POINT \((\S+) (\S+)\)",
}
FLOAT_COLS = [c for c, r in FIELD_RE.items() if r == FLOAT]


def _rows(path):
    with open(path, "rb") as f:
        data = f.read().decode("ascii")
    eol = "\r\n" if "\r\n" in data[:2000] else "\n"
    lines = data.split(eol)
    assert lines[-1] == ""  # the file ends with a line terminator
    if eol == "\n":
        assert "\r" not in data
    else:
        assert data.count("\n") == data.count("\r\n")
    return lines[0] + "\n", [line.split(",") for line in lines[1:-1]]


def _check_format(path, allow_empty=False):
    header, rows = _rows(path)
    assert header == ",".join(BSM_COLUMNS) + "\n"
    pats = [re.compile(FIELD_RE[c]) for c in BSM_COLUMNS]
    ilat, ilon, ipos = (BSM_COLUMNS.index(c) for c in
                        ("coreData_position_lat", "coreData_position_long", "coreData_position"))
    float_idx = [BSM_COLUMNS.index(c) for c in FLOAT_COLS]
    for n, fields in enumerate(rows):
        assert len(fields) == 19, (n, fields)
        for j, (p, v) in enumerate(zip(pats, fields)):
            if allow_empty and v == "":
                continue
            assert p.fullmatch(v), (n, BSM_COLUMNS[j], v)
        for j in float_idx:
            v = fields[j]
            if v:
                # shortest round-trip text, exactly as repr(float) writes it
                assert repr(float(v)) == v, (n, BSM_COLUMNS[j], v)
        if fields[ipos]:
            m = re.fullmatch(FIELD_RE["coreData_position"], fields[ipos])
            if fields[ilon] and fields[ilat]:
                assert m.group(1) == fields[ilon] and m.group(2) == fields[ilat], (n, fields[ipos])
    return rows


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_regexes_describe_the_shared_sample():
    # The per-field patterns are taken from the real sample, so they must accept all of it.
    if not os.path.exists(SAMPLE):
        pytest.skip("shared sample not found")
    rows = _check_format(SAMPLE)
    assert len(rows) == 10_000


def test_header_and_field_formats(tmp_path):
    p = tmp_path / "bsm.csv"
    res = write_bsm_csv(p, rows=BLOCK_ROWS + 123, seed=7)
    rows = _check_format(p)
    assert len(rows) == res.rows == BLOCK_ROWS + 123
    assert res.nbytes == os.path.getsize(p)
    if os.path.exists(SAMPLE):
        with open(SAMPLE, "rb") as f, open(p, "rb") as g:
            assert f.readline() == g.readline() == (",".join(BSM_COLUMNS) + "\r\n").encode()


def test_formats_of_edge_values():
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    vals = np.array([0.0, 45.0, -0.0, 1e-05, -3.2e-05, 1.5, 0.1, 1234.5, 1e-4, 9.99e-5,
                     1e15, 123456789012345.67, -105.93000172903601])
    out = synth._float_text(vals, pa, pc).to_pylist()
    assert out == [repr(float(v)) for v in vals]


def test_deterministic_and_seed_dependent(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_bsm_csv(a, rows=5000, seed=3)
    write_bsm_csv(b, rows=5000, seed=3)
    write_bsm_csv(c, rows=5000, seed=4)
    assert _sha(a) == _sha(b)
    assert _sha(a) != _sha(c)


def test_independent_of_batching_and_prefix(tmp_path):
    n = 2 * BLOCK_ROWS + 777
    shas = set()
    for i, batch in enumerate((1, BLOCK_ROWS, 3 * BLOCK_ROWS, 10**6)):
        p = tmp_path / f"b{i}.csv"
        write_bsm_csv(p, rows=n, seed=11, vehicles=40, batch_rows=batch)
        shas.add(_sha(p))
    assert len(shas) == 1
    # a shorter file is a byte prefix of a longer one (same parameters, vehicles fixed)
    short = tmp_path / "short.csv"
    write_bsm_csv(short, rows=BLOCK_ROWS + 5, seed=11, vehicles=40)
    big = (tmp_path / "b0.csv").read_bytes()
    small = short.read_bytes()
    assert big.startswith(small) and len(small) < len(big)


@pytest.mark.parametrize("rows", [0, 1, 2, BLOCK_ROWS, BLOCK_ROWS + 1])
def test_row_count(tmp_path, rows):
    p = tmp_path / "n.csv"
    res = write_bsm_csv(p, rows=rows, seed=1)
    assert res.rows == rows
    df = pd.read_csv(p)
    assert len(df) == rows
    assert list(df.columns) == list(BSM_COLUMNS)


def test_nbytes_target(tmp_path):
    p = tmp_path / "s.csv"
    target = 3 * 10**6
    res = write_bsm_csv(p, nbytes="3MB", seed=5)
    size = os.path.getsize(p)
    assert res.nbytes == size >= target
    with open(p, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    assert len(lines) - 1 == res.rows
    assert size - len(lines[-1]) < target  # the fewest rows reaching the target
    with pytest.raises(ValueError):
        write_bsm_csv(p, rows=10, nbytes=100)
    with pytest.raises(ValueError):
        write_bsm_csv(p)


def test_parse_size():
    assert synth.parse_size("1GB") == 10**9
    assert synth.parse_size("0.25GB") == 250 * 10**6
    assert synth.parse_size("512KiB") == 512 * 1024
    assert synth.parse_size(1234) == 1234
    with pytest.raises(ValueError):
        synth.parse_size("12 parsecs")


def test_pandas_reads_realistic_values(tmp_path):
    p = tmp_path / "r.csv"
    lat0, lon0 = 41.25, -105.93
    res = write_bsm_csv(p, rows=40_000, seed=9, vehicles=60, center=(lat0, lon0))
    df = pd.read_csv(p, dtype={"coreData_id": str, "metadata_serialId_streamId": str})
    assert len(df) == 40_000 and not df.isna().any().any()
    gen = pd.to_datetime(df["metadata_generatedAt"], format="%m/%d/%Y %I:%M:%S %p")
    rec = pd.to_datetime(df["metadata_receivedAt"], format="%m/%d/%Y %I:%M:%S %p")
    assert gen.iloc[0] == pd.Timestamp("2021-04-06 10:00:00")
    assert gen.is_monotonic_increasing and gen.iloc[-1] == pd.Timestamp("2021-04-06 11:06:39")
    d = (rec - gen).dt.total_seconds()
    assert d.isin([0, 1]).all() and 0 < d.mean() < 0.5
    assert (df["coreData_secMark"] // 1000 == gen.dt.second).all()
    assert df["coreData_secMark"].between(0, 59_999).all()
    # many rows per vehicle, and the stream id is the vehicle id
    counts = df["coreData_id"].value_counts()
    assert len(counts) == res.vehicles == 60 and counts.min() > 400
    assert (df["coreData_id"] == df["metadata_serialId_streamId"]).all()
    assert (df["metadata_serialId_bundleId"] == np.arange(len(df))).all()
    # plausible kinematics near the centre
    dy = np.radians(df["coreData_position_lat"] - lat0) * 6_371_000
    dx = np.radians(df["coreData_position_long"] - lon0) * 6_371_000 * math.cos(math.radians(lat0))
    assert np.hypot(dx, dy).max() < 60_000
    assert df["coreData_speed"].between(0, 45).all() and 10 < df["coreData_speed"].mean() < 30
    assert df["coreData_elevation"].between(1380, 1870).all()
    assert df["coreData_heading"].between(0, 359).all() and df["coreData_heading"].nunique() > 300
    assert (df["coreData_accuracy_semiMinor"] <= df["coreData_accuracy_semiMajor"]).all()


def test_vehicles_move_along_their_heading_at_their_speed(tmp_path):
    p = tmp_path / "k.csv"
    write_bsm_csv(p, rows=30_000, seed=2, vehicles=30)
    df = pd.read_csv(p, dtype={"coreData_id": str})
    gen = pd.to_datetime(df["metadata_generatedAt"], format="%m/%d/%Y %I:%M:%S %p")
    t = (gen - gen.iloc[0]).dt.total_seconds().to_numpy() + (df["coreData_secMark"] % 1000) / 1000
    df = df.assign(t=t).sort_values(["coreData_id", "t"], kind="stable")
    lat0 = 41.25
    y = np.radians(df["coreData_position_lat"].to_numpy()) * 6_371_000
    x = np.radians(df["coreData_position_long"].to_numpy()) * 6_371_000 * math.cos(math.radians(lat0))
    same = df["coreData_id"].to_numpy()[1:] == df["coreData_id"].to_numpy()[:-1]
    dt = np.diff(df["t"].to_numpy())
    dx, dy = np.diff(x), np.diff(y)
    spd = df["coreData_speed"].to_numpy()
    sel = same & (dt >= 1.0) & (dt <= 4.0) & (spd[:-1] > 5) & (spd[1:] > 5)
    assert sel.sum() > 1000
    v = np.hypot(dx, dy)[sel] / dt[sel]
    mean_speed = 0.5 * (spd[:-1] + spd[1:])[sel]
    assert np.median(np.abs(v - mean_speed)) < 2.0          # m/s
    bearing = np.degrees(np.arctan2(dx[sel], dy[sel])) % 360
    diff = np.abs((bearing - df["coreData_heading"].to_numpy()[:-1][sel] + 180) % 360 - 180)
    assert np.median(diff) < 10.0                           # degrees


def test_rows_text_matches_the_file(tmp_path):
    p = tmp_path / "rt.csv"
    n = BLOCK_ROWS + 500
    res = write_bsm_csv(p, rows=n, seed=13, null_fraction=0.1)
    _, rows = _rows(p)
    pick = [0, 1, 77, BLOCK_ROWS - 1, BLOCK_ROWS, n - 1]
    got = synth.bsm_rows_text(pick, seed=13, vehicles=res.vehicles, null_fraction=0.1)
    assert got == [rows[i] for i in pick]
    other = synth.bsm_rows_text(pick, seed=14, vehicles=res.vehicles, null_fraction=0.1)
    assert other != got


def test_line_terminator(tmp_path):
    a, b = tmp_path / "crlf.csv", tmp_path / "lf.csv"
    write_bsm_csv(a, rows=3000, seed=8)
    write_bsm_csv(b, rows=3000, seed=8, line_terminator="\n")
    assert a.read_bytes().replace(b"\r\n", b"\n") == b.read_bytes()
    _check_format(b)
    res = write_bsm_csv(b, nbytes=100_000, seed=8, line_terminator="\n")
    assert 100_000 <= res.nbytes == os.path.getsize(b)
    with pytest.raises(ValueError):
        write_bsm_csv(b, rows=1, line_terminator="\r")


def test_null_fraction(tmp_path):
    p = tmp_path / "nulls.csv"
    write_bsm_csv(p, rows=20_000, seed=4, null_fraction=0.05)
    rows = _check_format(p, allow_empty=True)
    empties = np.array([sum(v == "" for v in r) for r in rows])
    assert set(np.unique(empties)) == {0, 1}
    assert 0.04 < empties.mean() < 0.06
    df = pd.read_csv(p)
    assert len(df.dropna()) == int((empties == 0).sum())
    p0 = tmp_path / "none.csv"
    write_bsm_csv(p0, rows=2000, seed=4)
    assert not pd.read_csv(p0).isna().any().any()


def test_cli(tmp_path, capsys):
    from blockops.cli import main

    p = tmp_path / "cli.csv"
    assert main(["synth", "bsm", "--rows", "500", "--out", str(p), "--seed", "3"]) == 0
    q = tmp_path / "api.csv"
    write_bsm_csv(q, rows=500, seed=3)
    assert _sha(p) == _sha(q)
    assert "500 rows" in capsys.readouterr().out
