"""blockops.io report reader, averager and writer.

* the 72 averaged files the original program wrote are regenerated from its 2,145 inputs and
  compared byte for byte;
* the C parser agrees with tests/reference/one_report_ref.py on every real file and on
  generated ones (hypothesis), errors included (same kind, line, column, byte offset);
* hostile files (missing colon, non-numeric, empty, bad name, CRLF, no final newline) under
  on_error="raise" / "skip" / "warn";
* worker count and chunking never change the frame;
* the batch engine (C opens, reads and parses: bo_report_read_files) gives the same frame,
  attrs and errors as the per-file engine (Python reads, C parses) and as the pure-Python
  reference, on the real files and on hostile ones.
"""
from __future__ import annotations

import math
import os
import struct
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blockops
from blockops import _core
from blockops.io import reports
from blockops.io import (
    ReportParseError,
    ReportWarning,
    average_reports,
    parse_report_name,
    read_one_reports,
    write_averages,
)
from reference import one_report_ref as ref


def _real_data_dir():
    """The real ONE reports: BLOCKOPS_ONE_REPORTS, else an unchanged copy of
    ../shared/data/one-reports shipped as tests/data/one-reports.tar.gz (so CI never skips)."""
    if os.environ.get("BLOCKOPS_ONE_REPORTS"):
        return os.environ["BLOCKOPS_ONE_REPORTS"]
    import atexit
    import shutil
    import tarfile
    import tempfile

    dest = tempfile.mkdtemp(prefix="blockops-one-reports-")
    atexit.register(shutil.rmtree, dest, True)
    with tarfile.open(os.path.join(os.path.dirname(__file__), "data", "one-reports.tar.gz")) as tf:
        tf.extractall(dest, filter="data")
    return os.path.join(dest, "one-reports")


DATA = _real_data_dir()
HAVE_DATA = os.path.isdir(DATA)
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="shared one-reports data not found")

REPORT = (
    "Message stats for scenario {scen}\n"
    "sim_time: 604800.0999\n"
    "created: {created}\n"
    "delivery_prob: {prob}\n"
    "rtt_avg: NaN\n"
)


def _name(router="EpidemicRouter", seed=1, ttl=60, buf=5, scen="TEST", rt="MessageStatsReport"):
    return f"{scen}_{router}_{seed}_{ttl}_{buf}M_{rt}.txt"


def _write(dirpath, name, text):
    p = os.path.join(dirpath, name)
    if isinstance(text, bytes):
        with open(p, "wb") as f:
            f.write(text)
    else:
        with open(p, "w", newline="") as f:
            f.write(text)
    return p


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return struct.pack("<d", a) == struct.pack("<d", b)


def _check_against_ref(data: bytes):
    """Run both parsers on data and require the same outcome."""
    try:
        want = ref.parse(data)
        ref_err = None
    except ref.RefParseError as e:
        want, ref_err = None, e
    try:
        got = _core.parse_one_report(data, "gen.txt")
        c_err = None
    except blockops.BlockopsError as e:
        got, c_err = None, e
    if ref_err is not None:
        assert c_err is not None, f"C accepted what the reference rejects ({ref_err}): {data!r}"
        assert (c_err.line, c_err.column, c_err.byte_offset) == (
            ref_err.line, ref_err.column, ref_err.byte_offset), (str(c_err), str(ref_err), data)
        assert ref.kind_of_message(str(c_err)) == ref_err.kind, (str(c_err), ref_err.kind)
        assert c_err.path == "gen.txt"
        return
    assert c_err is None, f"C rejected what the reference accepts: {c_err} for {data!r}"
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert len(got[2]) == len(want[2])
    assert all(_same_float(a, b) for a, b in zip(got[2], want[2])), (got[2], want[2])


# ---------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_frame():
    if not HAVE_DATA:
        pytest.skip("shared one-reports data not found")
    return read_one_reports(DATA)


@needs_data
def test_real_frame_shape_and_columns(real_frame):
    df = real_frame
    assert len(df) == 2145  # 3 routers x 5 seeds x 13 TTLs x 11 buffers
    assert list(df.columns[:6]) == ["scenario", "router", "seed", "ttl", "buffer", "report_type"]
    assert df.columns[6] == "sim_time" and df.columns[-1] == "rtt_med"
    assert len(df.columns) == 6 + 19
    for c in ("seed", "ttl", "buffer"):
        assert df[c].dtype == np.int64
    for c in df.columns[6:]:
        assert df[c].dtype == np.float64
    assert df["router"].nunique() == 3 and df["seed"].nunique() == 5
    assert df["ttl"].nunique() == 13 and df["buffer"].nunique() == 11
    assert set(df["report_type"]) == {"MessageStatsReport"}
    assert df.attrs["skipped"] == []
    assert len(df.attrs["ignored"]) == 72  # the *_average.txt files
    assert all(p.endswith("_average.txt") for p in df.attrs["ignored"])
    assert df.attrs["paths"] == sorted(df.attrs["paths"])
    # the example file, row by row
    row = df[(df.router == "EpidemicRouter") & (df.seed == 10) & (df.ttl == 104)
             & (df.buffer == 100)].iloc[0]
    assert row["scenario"] == "TEST"
    assert row["created"] == 20503.0 and row["delivery_prob"] == 0.5728
    assert row["sim_time"] == 604800.0999 and math.isnan(row["rtt_avg"])


@needs_data
def test_regenerates_the_72_original_averages_byte_for_byte(real_frame, tmp_path):
    written = write_averages(real_frame, tmp_path)
    originals = sorted(n for n in os.listdir(DATA) if n.endswith("_average.txt"))
    assert len(originals) == 72
    assert [os.path.basename(p) for p in written] == originals
    mismatched = []
    for name in originals:
        with open(os.path.join(DATA, name), "rb") as f:
            want = f.read()
        with open(tmp_path / name, "rb") as f:
            got = f.read()
        if got != want:
            mismatched.append(name)
    assert mismatched == []


@needs_data
def test_average_reports_groups_and_min_files(real_frame):
    by_ttl = average_reports(real_frame, ("router", "ttl"))
    by_buf = average_reports(real_frame, ("router", "buffer"))
    assert len(by_ttl) == 3 * 13 and len(by_buf) == 3 * 11
    assert set(by_ttl["n_files"]) == {5 * 11} and set(by_buf["n_files"]) == {5 * 13}
    assert "sim_time" not in by_ttl.columns and "seed" not in by_ttl.columns
    assert list(by_ttl.columns[:4]) == ["report_type", "router", "ttl", "n_files"]
    assert by_ttl["rtt_avg"].isna().all()
    # the mean of a group equals numpy's nanmean over its files
    g = real_frame[(real_frame.router == "SprayAndWaitRouter") & (real_frame.ttl == 300)]
    r = by_ttl[(by_ttl.router == "SprayAndWaitRouter") & (by_ttl.ttl == 300)].iloc[0]
    assert r["latency_avg"] == np.nanmean(g["latency_avg"].to_numpy())
    # min_files drops small groups
    assert len(average_reports(real_frame, ("router", "ttl"), min_files=56)) == 0
    dropped = average_reports(real_frame, ("router", "ttl"), min_files=56).attrs["dropped_groups"]
    assert len(dropped) == 39 and dropped[0][1] == 55


@needs_data
def test_c_parser_matches_reference_on_every_real_file():
    names = sorted(os.listdir(DATA))
    assert len(names) == 2145 + 72
    for name in names:
        with open(os.path.join(DATA, name), "rb") as f:
            _check_against_ref(f.read())


@needs_data
@pytest.mark.parametrize("n_workers,chunk_size", [(1, None), (2, 7), (4, 1), (3, 1000), (8, 3),
                                                (5000, None)])
def test_workers_and_chunks_do_not_change_the_frame(real_frame, n_workers, chunk_size):
    df = read_one_reports(DATA, n_workers=n_workers, chunk_size=chunk_size)
    pd.testing.assert_frame_equal(df, real_frame)


@needs_data
def test_glob_and_list_inputs(real_frame, tmp_path):
    by_glob = read_one_reports(os.path.join(DATA, "*.txt"))
    pd.testing.assert_frame_equal(by_glob, real_frame)
    assert len(by_glob.attrs["ignored"]) == 72
    picked = [os.path.join(DATA, n) for n in sorted(os.listdir(DATA))
              if n.startswith("TEST_FirstContactRouter_")]
    by_list = read_one_reports(list(reversed(picked)))  # order of the list does not matter
    assert len(by_list) == len(picked) == 715
    assert by_list.attrs["paths"] == picked
    expected = real_frame[real_frame.router == "FirstContactRouter"].reset_index(drop=True)
    pd.testing.assert_frame_equal(by_list, expected)
    # a list naming an averaged file: unexpected name
    with pytest.raises(ReportParseError, match="unexpected file name") as ei:
        read_one_reports([os.path.join(DATA, "MessageStatsReport_EpidemicRouter_104_ttl_average.txt")])
    assert ei.value.line is None


# ---------------------------------------------------------------------------- batch engine


def _same_attrs(a, b):
    for k in ("paths", "skipped", "ignored", "metrics"):
        assert a.attrs[k] == b.attrs[k], k


def _both_engines(paths_or_dir, **kw):
    """The frame of the batch engine after checking it against the per-file engine: same
    frame and attrs, or the same exception (type, message, location)."""
    outcomes = []
    for engine in ("batch", "files"):
        try:
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                df = reports._read_one_reports(paths_or_dir, engine=engine, **kw)
            outcomes.append((df, None, [str(w.message) for w in rec]))
        except Exception as e:  # noqa: BLE001 - compared below
            outcomes.append((None, e, None))
    (df, err, warned), (df2, err2, warned2) = outcomes
    if err is not None or err2 is not None:
        assert type(err) is type(err2), (err, err2)
        assert str(err) == str(err2)
        for a in ("path", "line", "column", "byte_offset", "errno", "filename"):
            assert getattr(err, a, None) == getattr(err2, a, None), a
        raise err
    pd.testing.assert_frame_equal(df, df2)
    _same_attrs(df, df2)
    assert warned == warned2
    return df


@needs_data
def test_batch_matches_per_file_engine_and_reference_on_real_data(real_frame):
    df = _both_engines(DATA)
    pd.testing.assert_frame_equal(df, real_frame)
    # every row against the pure-Python reference parser, bit for bit (last repeated key wins)
    metric_cols = list(df.columns[6:])
    mat = df[metric_cols].to_numpy()
    for i, path in enumerate(df.attrs["paths"]):
        with open(path, "rb") as f:
            _, keys, values = ref.parse(f.read())
        want = dict(zip(keys, values))
        assert set(want) <= set(metric_cols)
        for j, c in enumerate(metric_cols):
            if c in want:
                assert _same_float(mat[i, j], want[c]), (path, c)
            else:
                assert math.isnan(mat[i, j]), (path, c)
        meta = parse_report_name(path)
        assert [df[c].iloc[i] for c in ("router", "seed", "ttl", "buffer")] == [
            meta["router"], meta["seed"], meta["ttl"], meta["buffer"]]


@needs_data
def test_batch_binding_on_real_files_against_the_single_file_parser():
    names = sorted(os.listdir(DATA))
    paths = [os.path.join(DATA, n) for n in names]
    res = _core.read_one_reports([os.fsencode(p) for p in paths], 2, 1 << 20, 0)
    assert res["pair_start"].dtype == np.uintp and res["key_id"].dtype == np.uint32
    assert res["value"].dtype == np.float64 and res["errors"] == [] and res["n_dup_pairs"] == 0
    assert len(res["pair_start"]) == len(paths) + 1
    for i, p in enumerate(paths):
        with open(p, "rb") as f:
            _, keys, values = _core.parse_one_report(f.read(), p)
        a, b = int(res["pair_start"][i]), int(res["pair_start"][i + 1])
        assert [res["keys"][k] for k in res["key_id"][a:b]] == keys
        assert all(_same_float(x, y) for x, y in zip(res["value"][a:b].tolist(), values))
    # thread count and task size change nothing
    for n_threads, per_task in ((1, 0), (3, 1), (8, 1000)):
        other = _core.read_one_reports([os.fsencode(p) for p in paths], n_threads, 1 << 20, per_task)
        assert other["keys"] == res["keys"]
        for k in ("pair_start", "key_id", "value"):
            assert np.array_equal(other[k], res[k], equal_nan=True), k


def test_batch_engine_on_hostile_files(tmp_path):
    d, good, bad = _fixture_dir(tmp_path)
    # a directory named like a report (reading fails with EISDIR) and a missing file
    dirlike = os.path.join(d, _name(seed=9))
    os.mkdir(dirlike)
    missing = os.path.join(d, _name(seed=10))
    listed = good + list(bad) + [dirlike, missing, os.path.join(d, "report.txt")]
    for on_error in ("skip", "warn"):
        df = _both_engines(listed, on_error=on_error, n_workers=3, chunk_size=1)
        assert len(df) == len(good)
        skipped = {p: (line, msg) for p, line, msg in df.attrs["skipped"]}
        assert set(skipped) == set(bad) | {dirlike, missing, os.path.join(d, "report.txt")}
        assert "Is a directory" in skipped[dirlike][1] and skipped[dirlike][0] is None
        assert "No such file" in skipped[missing][1]
        # the key of the clashing file is not a column
        assert "router" in df.columns and df.columns.tolist().count("router") == 1
    # "raise": the first bad file in path order (here the missing one, "_10_" sorts first)
    assert sorted(listed)[0] == missing
    with pytest.raises(FileNotFoundError):
        _both_engines(listed)
    with pytest.raises(ReportParseError, match="missing ':'"):
        _both_engines([p for p in listed if p != missing])
    with pytest.raises(IsADirectoryError):
        _both_engines([dirlike])
    with pytest.raises(FileNotFoundError) as ei:
        _both_engines([missing])
    assert ei.value.filename == missing and ei.value.errno == 2


def test_max_file_bytes_is_an_error_not_a_bigger_buffer(tmp_path):
    body = "t\n" + "".join(f"k{i}: {i}\n" for i in range(100))
    size = len(body.encode())
    p = _write(tmp_path, _name(seed=1), body)
    q = _write(tmp_path, _name(seed=2), "t\na: 1\n")
    df = _both_engines(tmp_path, max_file_bytes=size)  # exactly the limit: read
    assert len(df) == 2
    df = _both_engines(tmp_path, max_file_bytes=size - 1, on_error="skip")
    assert df.attrs["paths"] == [q]
    assert df.attrs["skipped"] == [
        (p, None, f"{p}: file is larger than max_file_bytes ({size - 1} bytes)")]
    with pytest.raises(ReportParseError, match="larger than max_file_bytes") as ei:
        _both_engines([p, q], max_file_bytes=size - 1)
    assert ei.value.path == p and ei.value.line is None
    with pytest.raises(ValueError, match="max_file_bytes"):
        read_one_reports(tmp_path, max_file_bytes=0)


def test_batch_duplicates_report_types_and_first_appearance(tmp_path):
    files = {
        _name(seed=1, rt="B"): "t\nz: 1\ny: 2\nz: 3\n",
        _name(seed=2, rt="A"): "t\nx: 5\nz: NaN\n",
        _name(seed=3, rt="B"): "t\ny: 7\nw: 8\ny: 9\ny: 10\n",
        _name(seed=4, rt="A"): "t\nx: 1\nrouter: 2\nonly_in_clash: 3\n",
    }
    for name, text in files.items():
        _write(tmp_path, name, text)
    df = _both_engines(tmp_path, on_error="skip")
    assert list(df.columns[6:]) == ["z", "y", "x", "w"]
    assert df["z"].tolist()[0] == 3.0 and df["y"].tolist()[2] == 10.0
    assert df.attrs["metrics"] == {"B": ["z", "y", "w"], "A": ["x", "z"]}
    assert len(df.attrs["skipped"]) == 1 and "clashes" in df.attrs["skipped"][0][2]


def test_batch_binding_arguments(tmp_path):
    p = _write(tmp_path, _name(), "t\na: 1\n")
    bp = os.fsencode(p)
    with pytest.raises(TypeError, match=r"paths\[1\] must be bytes"):
        _core.read_one_reports([bp, p], 1, 100, 0)
    with pytest.raises(ValueError, match="NUL"):
        _core.read_one_reports([bp + b"\0x"], 1, 100, 0)
    with pytest.raises(ValueError, match="n_threads"):
        _core.read_one_reports([bp], 0, 100, 0)
    with pytest.raises(ValueError, match="max_file_bytes"):
        _core.read_one_reports([bp], 1, 0, 0)
    with pytest.raises(ValueError, match="files_per_task"):
        _core.read_one_reports([bp], 1, 100, -1)
    res = _core.read_one_reports([], 1, 100, 0)
    assert res["keys"] == [] and res["pair_start"].tolist() == [0] and len(res["value"]) == 0
    res = _core.read_one_reports([bp, bp + b".missing"], 2, 100, 0)
    assert res["keys"] == ["a"] and res["pair_start"].tolist() == [0, 1, 1]
    (err,) = res["errors"]
    assert err[:6] == (1, "BO_ERR_IO", 2, -1, -1, -1) and "cannot open" in err[6]
    # the arrays own their memory and outlive the call's other results
    v = res["value"]
    del res
    assert v.tolist() == [1.0] and v.base is not None


# ---------------------------------------------------------------------------- hostile files


def _fixture_dir(tmp_path):
    d = tmp_path / "reports"
    d.mkdir()
    good = [
        _write(d, _name(seed=1), REPORT.format(scen="TEST_EpidemicRouter_1_60_5M", created=10, prob=0.5)),
        # CRLF line endings
        _write(d, _name(seed=2), REPORT.format(scen="x", created=20, prob=0.25).replace("\n", "\r\n")),
        # no final newline, blank lines and blanks around values
        _write(d, _name(seed=3), "title\n\n  created :  30 \n\ndelivery_prob:\t0.75\nrtt_avg: nan"),
    ]
    bad = {
        _write(d, _name(seed=4), "title\ncreated: 1\ndelivery_prob 0.5\n"): (3, "missing ':'"),
        _write(d, _name(seed=5), "title\ncreated: 1\r\nrtt_avg: n/a\r\n"): (3, "non-numeric value 'n/a'"),
        _write(d, _name(seed=6), ""): (1, "empty report"),
        _write(d, _name(seed=7), b"title\ncre\xffated: 1\n"): (2, "not valid UTF-8"),
        _write(d, _name(seed=8), "title\nrouter: 3\n"): (None, "clashes"),
    }
    return d, good, bad


def test_hostile_files_skip(tmp_path):
    d, good, bad = _fixture_dir(tmp_path)
    # a bad name inside a directory is ignored (like the averaged files), not an error
    _write(d, "notes.txt", "hello\n")
    _write(d, "TEST_EpidemicRouter_1_60_5_MessageStatsReport.txt", "t\na: 1\n")  # no 'M'
    df = read_one_reports(d, on_error="skip")
    assert len(df) == len(good)
    assert df.attrs["paths"] == sorted(good)
    assert len(df) + len(df.attrs["skipped"]) == len(good) + len(bad)
    assert len(df.attrs["ignored"]) == 2
    got = {p: (line, msg) for p, line, msg in df.attrs["skipped"]}
    assert set(got) == set(bad)
    for p, (line, part) in bad.items():
        assert got[p][0] == line, (p, got[p])
        assert part in got[p][1] and p in got[p][1]
    assert list(df["seed"]) == [1, 2, 3]
    assert list(df["created"]) == [10.0, 20.0, 30.0]
    assert list(df["delivery_prob"]) == [0.5, 0.25, 0.75]
    assert df["rtt_avg"].isna().all()
    # seed 3 has no sim_time: NaN, not 0
    assert list(df["sim_time"].isna()) == [False, False, True]


def test_hostile_files_raise_names_the_first_bad_file(tmp_path):
    d, good, bad = _fixture_dir(tmp_path)
    first = sorted(bad)[0]
    for n_workers in (1, 3):
        with pytest.raises(ReportParseError) as ei:
            read_one_reports(d, n_workers=n_workers, chunk_size=1)
        e = ei.value
        assert e.path == first and e.line == 3 and e.column == 0
        assert isinstance(e, ValueError) and isinstance(e, blockops.BlockopsError)
        assert str(e).startswith(f"{first}, line 3, column 1 (byte 17): missing ':'")
        assert e.byte_offset == 17
    with open(first, "rb") as f:
        assert f.read()[17:30] == b"delivery_prob"


def test_hostile_files_warn(tmp_path):
    d, good, bad = _fixture_dir(tmp_path)
    with pytest.warns(ReportWarning) as rec:
        df = read_one_reports(d, on_error="warn")
    assert len(df) == len(good)
    assert len([w for w in rec if issubclass(w.category, ReportWarning)]) == len(bad)
    assert all(os.path.basename(__file__) == os.path.basename(w.filename) for w in rec)


def test_bad_name_in_list_and_missing_file(tmp_path):
    p = _write(tmp_path, "report.txt", "t\na: 1\n")
    with pytest.raises(ReportParseError, match="unexpected file name"):
        read_one_reports([p])
    missing = str(tmp_path / _name())
    with pytest.raises(FileNotFoundError):
        read_one_reports([missing])
    df = read_one_reports([p, missing], on_error="skip")
    assert len(df) == 0 and [s[0] for s in df.attrs["skipped"]] == sorted([p, missing])
    assert list(df.columns) == ["scenario", "router", "seed", "ttl", "buffer", "report_type"]


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="on_error"):
        read_one_reports(tmp_path, on_error="ignore")
    with pytest.raises(ValueError, match="n_workers"):
        read_one_reports(tmp_path, n_workers=0)
    with pytest.raises(ValueError, match="chunk_size"):
        read_one_reports(tmp_path, chunk_size=0)
    with pytest.raises(TypeError, match="paths_or_dir"):
        read_one_reports(42)
    empty = read_one_reports(tmp_path)
    assert len(empty) == 0 and empty.attrs["skipped"] == []
    with pytest.raises(ValueError, match="by"):
        average_reports(empty, ("router", "nope"))
    with pytest.raises(ValueError, match="min_files"):
        average_reports(empty, min_files=0)


def test_default_workers_come_from_the_resource_manager(tmp_path, monkeypatch):
    from blockops import resources

    d, good, _ = _fixture_dir(tmp_path)
    calls = []

    def fake(self, file_paths=None, *, sizes=None, n_tasks=None):
        calls.append((sorted(sizes), n_tasks))
        return 2

    monkeypatch.setattr(resources.ResourceManager, "optimal_workers", fake)
    # the batch engine counts every file at max_file_bytes (the most a thread holds at once)
    # instead of stat'ing each file first
    df = read_one_reports(good, chunk_size=1, max_file_bytes=4096)
    assert len(df) == 3
    assert calls == [([4096] * 3, 3)]
    # the per-file engine uses the real sizes and the number of chunks
    calls.clear()
    df = reports._read_one_reports(good, chunk_size=1, engine="files")
    assert len(df) == 3
    assert calls == [(sorted(os.path.getsize(p) for p in good), 3)]


_NAME_PARTS = st.sampled_from(["_", "M", ".txt", "1", "09", "\u00b2", "\u0661", "\n", "\r", "a",
                               "Router", "TEST", ".", "/", " ", "M_", "_1", "\u00e9"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(
    st.lists(_NAME_PARTS, max_size=14).map("".join),
    st.tuples(st.sampled_from(["TEST", "a_b", "", "x\ny", "s\r"]),
              st.sampled_from(["EpidemicRouter", "", "R\n", "a.b", "M"]),
              st.sampled_from(["1", "007", "", "\u00b2", "1a", "\u0661"]),
              st.sampled_from(["60", "", "9" * 30]),
              st.sampled_from(["5M", "M", "5", "5MM", "\u00b2M", "12M"]),
              st.sampled_from(["MessageStatsReport", "", "R.v2", "x\n"]),
              st.sampled_from([".txt", ".txt\n", ".TXT", "txt", ".txt.txt"]))
    .map(lambda t: "_".join(t[:6]) + t[6])), min_size=1, max_size=8))
def test_name_shortcut_agrees_with_the_pattern(names):
    paths = [os.path.join("/d", n) for n in names]
    want = [m.groups() if (m := reports.REPORT_NAME_RE.match(os.path.basename(p))) else None
            for p in paths]
    assert reports._name_groups(paths) == want


def test_parse_report_name():
    assert parse_report_name("/x/TEST_EpidemicRouter_10_104_100M_MessageStatsReport.txt") == {
        "scenario": "TEST", "router": "EpidemicRouter", "seed": 10, "ttl": 104, "buffer": 100,
        "report_type": "MessageStatsReport"}
    # the scenario may contain underscores
    assert parse_report_name("my_scen_A_1_2_3M_R.txt")["scenario"] == "my_scen"
    for bad in ("MessageStatsReport_EpidemicRouter_104_ttl_average.txt",
                "TEST_EpidemicRouter_10_104_100_MessageStatsReport.txt",
                "TEST_EpidemicRouter_10_104_100M_MessageStatsReport.csv",
                "EpidemicRouter_10_104_100M_MessageStatsReport.txt"):
        assert parse_report_name(bad) is None, bad


# ---------------------------------------------------------------------------- averaging


def _frame_from(tmp_path, files):
    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        _write(d, name, text)
    return read_one_reports(d)


def test_average_nanmean_and_written_format(tmp_path):
    df = _frame_from(tmp_path, {
        _name(seed=1, ttl=60, buf=5): "t\nsim_time: 1\nb: 1\na: NaN\nz: NaN\n",
        _name(seed=2, ttl=60, buf=5): "t\nsim_time: 2\nb: 2\na: 4\nz: NaN\n",
        _name(seed=3, ttl=60, buf=9): "t\nsim_time: 3\nb: 1.0003\na: 5\nz: NaN\n",
        _name(router="R2", seed=1, ttl=120, buf=9): "t\nb: -0.00001\na: 1e400\n",
    })
    avg = average_reports(df, ("router", "ttl"))
    assert list(avg["router"]) == ["EpidemicRouter", "R2"]
    assert list(avg["n_files"]) == [3, 1]
    e = avg.iloc[0]
    assert e["a"] == 4.5 and e["b"] == np.nanmean([1, 2, 1.0003]) and math.isnan(e["z"])
    out = tmp_path / "out"
    written = write_averages(avg, out)
    assert [os.path.basename(p) for p in written] == [
        "MessageStatsReport_EpidemicRouter_60_ttl_average.txt",
        "MessageStatsReport_R2_120_ttl_average.txt"]
    with open(written[0], "rb") as f:
        assert f.read() == b"a: 4.5000\nb: 1.3334\nz: nan\n"
    with open(written[1], "rb") as f:  # no z in R2's file, but it is one report type: nan
        assert f.read() == b"a: inf\nb: -0.0000\nz: nan\n"
    # min_files=2 leaves R2 out; precision is honoured
    written = write_averages(df, tmp_path / "out2", by=("router", "buffer"), min_files=2,
                             precision=2)
    assert [os.path.basename(p) for p in written] == [
        "MessageStatsReport_EpidemicRouter_5_buffer_average.txt"]
    with open(written[0], "rb") as f:
        assert f.read() == b"a: 4.00\nb: 1.50\nz: nan\n"
    with pytest.raises(ValueError, match="already averaged"):
        write_averages(avg, out, by=("router", "ttl"))


def test_average_keeps_report_types_apart(tmp_path):
    df = _frame_from(tmp_path, {
        _name(seed=1, rt="MessageStatsReport"): "t\ndelivered: 1\nrtt_avg: NaN\n",
        _name(seed=2, rt="MessageStatsReport"): "t\ndelivered: 3\nrtt_avg: NaN\n",
        _name(seed=1, rt="ContactTimesReport"): "t\ncontacts: 7\n",
    })
    assert df.attrs["metrics"] == {"ContactTimesReport": ["contacts"],
                                   "MessageStatsReport": ["delivered", "rtt_avg"]}
    written = write_averages(df, tmp_path / "out", by=("router", "ttl"))
    texts = {os.path.basename(p): open(p, "rb").read() for p in written}
    assert texts == {
        "ContactTimesReport_EpidemicRouter_60_ttl_average.txt": b"contacts: 7.0000\n",
        # rtt_avg is NaN in every file but it is a MessageStatsReport key: written as nan
        "MessageStatsReport_EpidemicRouter_60_ttl_average.txt":
            b"delivered: 2.0000\nrtt_avg: nan\n",
    }


def test_duplicate_keys_last_wins(tmp_path):
    df = _frame_from(tmp_path, {_name(): "t\na: 1\nb: 2\na: 3\n"})
    assert list(df.columns[6:]) == ["a", "b"]
    assert df["a"].iloc[0] == 3.0 and df["b"].iloc[0] == 2.0


# ---------------------------------------------------------------------------- C vs reference


@pytest.mark.parametrize("data", [
    b"", b"\n", b" \t\r\n", b"title", b"title\n", b"title\r\n", b"\nx: 1", b"t\nx: 1",
    b"t\nx:1\n", b"t\n x : -1.5e-3 \r\n", b"t\nx\n", b"t\n: 1\n", b"t\n\t:1\n", b"t\nx:\n",
    b"t\nx:  \t\r\n", b"t\nx: 1 2\n", b"t\nx: 0x10\n", b"t\nx: 1_000\n", b"t\nx: .\n",
    b"t\nx: nan(1)\n", b"t\nx: -Infinity\n", b"t\nx: +.5\n", b"t\nx: 5.\n", b"t\nx: 1e\n",
    b"t\na\x00b: 1\n", b"t\nab: 1\x00\n", b"t\n\xc3\xa9: 1\n", b"t\n\xc3: 1\n",
    b"t\n\xed\xa0\x80: 1\n", b"t\n\xf4\x90\x80\x80: 1\n", b"t\na\x7f: 1\n", b"t\na\rb: 1\n",
    b"t\nx: 1\r\r\n", b"t\r\nx: 1e400\r\n", b"t\nx: 4.9e-324\n", b"t\nx: 1" + b"0" * 400 + b"\n",
    b"t\nx: 0." + b"0" * 400 + b"1\n", "t\nx: ١\n".encode(), b"\xff\xfe title\nx: 2\n",
])
def test_c_matches_reference_on_edge_cases(data):
    _check_against_ref(data)


_ALPHABET = st.sampled_from([
    b"a", b"_", b"key", b":", b": ", b" ", b"\t", b"\r", b"\n", b"\r\n", b"0", b"1", b"9",
    b".", b"e", b"E", b"-", b"+", b"NaN", b"inf", b"x", b"\x00", b"\xff", b"\xc3\xa9", b"\x7f",
])


def _number_text():
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(
        finite.map(repr),
        finite.map(lambda v: f"{v:.4f}"),
        finite.map(lambda v: f"{v:.25e}"),
        st.integers(-(10 ** 30), 10 ** 30).map(str),
        st.sampled_from(["NaN", "nan", "-inf", "Infinity", "+0", "-0.0", ".5", "5.", "1e-400",
                         "1e400", "00012.50", "2.2250738585072014e-308"]),
    )


_line = st.one_of(
    st.tuples(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
              st.sampled_from([":", ": ", " : ", ":\t"]), _number_text(),
              st.sampled_from(["", " ", "\t"])).map(lambda t: "".join(t).encode()),
    st.lists(_ALPHABET, max_size=8).map(b"".join),
    # a good key with a junk value: the value errors and their columns
    st.tuples(st.sampled_from([b"k", b" k ", b"delivery_prob"]), st.sampled_from([b":", b": "]),
              st.lists(_ALPHABET.filter(lambda t: b"\n" not in t), max_size=5).map(b"".join)
              ).map(b"".join),
    st.just(b""),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=st.sampled_from([b"Message stats for scenario X", b"", b"t: 1", b"\xff"]),
       lines=st.lists(_line, max_size=12),
       eol=st.sampled_from([b"\n", b"\r\n"]), final=st.booleans())
def test_c_matches_reference_on_generated_reports(title, lines, eol, final):
    data = eol.join([title] + lines) + (eol if final else b"")
    _check_against_ref(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_c_matches_reference_on_random_bytes(blob):
    _check_against_ref(b"title\n" + blob)
    _check_against_ref(blob)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False))
def test_values_are_python_floats_bit_for_bit(x):
    for text in (repr(x), f"{x:.17g}", f"{x:.4f}", f"{x:.30e}"):
        _, _, values = _core.parse_one_report(f"t\nk: {text}\n".encode(), "f.txt")
        assert _same_float(values[0], float(text)), text


def test_binding_arguments():
    with pytest.raises(TypeError):
        _core.parse_one_report(bytearray(b"t\n"), "p")  # only immutable bytes
    with pytest.raises(TypeError):
        _core.parse_one_report("t\n", "p")
    title, keys, values = _core.parse_one_report(b"\xff title\nk: 1\n", "p")
    assert title == "\ufffd title" and keys == ["k"] and values == [1.0]
    import inspect

    assert str(inspect.signature(_core.parse_one_report)) == "(data, path, /)"


# ---------------------------------------------------------------------------- progress


@pytest.mark.parametrize("engine", ["batch", "files"])
def test_progress_bar_counts_every_file_and_changes_nothing(tmp_path, capsys, engine):
    """progress=True: a tqdm bar (text on stderr outside a notebook) that ends at the number
    of files, bad ones included; the frame, attrs and warnings are those without it; off by
    default."""
    d, good, bad = _fixture_dir(tmp_path)
    paths = sorted(good + list(bad)) + [str(d / "not_a_report.txt")]  # a bad name as well
    _write(d, "not_a_report.txt", "t\na: 1\n")
    n = len(paths)
    plain = reports._read_one_reports(paths, engine=engine, on_error="skip")
    assert capsys.readouterr().err == ""  # off by default
    shown = reports._read_one_reports(paths, engine=engine, on_error="skip", progress=True)
    err = capsys.readouterr().err
    pd.testing.assert_frame_equal(shown, plain)
    _same_attrs(shown, plain)
    assert "read_one_reports" in err and f"{n}/{n}" in err and "file/s" in err, err[-500:]
    # the public function passes it on
    read_one_reports(paths, on_error="skip", progress=True)
    assert f"{n}/{n}" in capsys.readouterr().err


def test_progress_bar_is_closed_when_the_read_raises(tmp_path, capsys):
    d, good, bad = _fixture_dir(tmp_path)
    with pytest.raises(ReportParseError):
        read_one_reports(d, progress=True)
    err = capsys.readouterr().err
    # closed (a final newline) and it had counted the files read before the policy raised
    n = len(good) + len(bad)
    assert f"{n}/{n}" in err and err.endswith("\n"), err[-300:]


def test_binding_progress_callback_between_blocks(tmp_path):
    """The binding reads in blocks of 8192 files and calls progress(k) after each, with the
    GIL held; the batch is the same with or without it; its exception stops the read."""
    d = tmp_path / "many"
    d.mkdir()
    n = 8192 + 100
    paths = []
    for i in range(n):
        p = os.path.join(d, _name(seed=i))
        with open(p, "w") as f:
            f.write(f"t\na: {i}\n")
        paths.append(os.fsencode(p))
    calls = []
    with_cb = _core.read_one_reports(paths, 2, 100, 0, calls.append)
    assert calls == [8192, 100]
    plain = _core.read_one_reports(paths, 2, 100, 0)
    assert with_cb["keys"] == plain["keys"] == ["a"]
    np.testing.assert_array_equal(with_cb["value"], np.arange(n, dtype=np.float64))
    np.testing.assert_array_equal(with_cb["pair_start"], plain["pair_start"])
    assert _core.read_one_reports([], 1, 100, 0, calls.append)["keys"] == [] and len(calls) == 2

    def boom(k):
        raise RuntimeError(f"stop after {k}")

    with pytest.raises(RuntimeError, match="stop after 8192"):
        _core.read_one_reports(paths, 1, 100, 0, boom)
    with pytest.raises(TypeError, match="progress must be callable"):
        _core.read_one_reports(paths[:1], 1, 100, 0, 3)
    assert _core.read_one_reports(paths[:1], 1, 100, 0, None)["keys"] == ["a"]


@needs_data
def test_cli_reports_average_regenerates_the_originals_with_a_bar(tmp_path, capsys):
    """``python -m blockops reports average DIR --out OUT``: the original tool's 72 files,
    byte for byte, with the bar on (the CLI default) and off with --no-progress."""
    from blockops.cli import main

    assert main(["reports", "average", DATA, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr()
    assert "2145/2145" in out.err and "read 2,145 report files" in out.out, out
    assert "ignored 72" in out.out and "wrote 72 averages" in out.out
    originals = sorted(n for n in os.listdir(DATA) if n.endswith("_average.txt"))
    assert sorted(os.listdir(tmp_path / "a")) == originals
    for name in originals:
        with open(os.path.join(DATA, name), "rb") as f, open(tmp_path / "a" / name, "rb") as g:
            assert f.read() == g.read(), name
    assert main(["reports", "average", DATA, "--out", str(tmp_path / "b"), "--by", "ttl",
                 "--no-progress"]) == 0
    out = capsys.readouterr()
    assert out.err == "" and "wrote 39 averages" in out.out  # 3 routers x 13 TTLs
    # --min-files: every group has 55 (ttl) files, so 56 writes nothing
    assert main(["reports", "average", DATA, "--out", str(tmp_path / "c"), "--by", "ttl",
                 "--min-files", "56", "--no-progress"]) == 0
    assert "wrote 0 averages" in capsys.readouterr().out
