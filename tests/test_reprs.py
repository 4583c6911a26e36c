"""Notebook reprs: what a cell shows after a call. Each ``_repr_html_`` is well-formed, holds
the numbers the object holds, and the plain ``repr`` stays readable."""
from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import blockops
from blockops import _config
from blockops.io import CsvBlockReader, read_csv


def well_formed(h: str) -> ET.Element:
    return ET.fromstring(f"<div>{h}</div>")


def test_csv_stats(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("a,b\n1,2\n3\n4,5\n")
    df = read_csv(str(p), on_bad_lines="skip")
    with CsvBlockReader(str(p), on_bad_lines="skip") as r:
        list(r)
    h = r.stats._repr_html_()
    well_formed(h)
    for text in ("rows in", ">3<", "rows skipped", ">1<", f"{p}:3"):
        assert text in h, text
    assert len(df) == 2


def test_label_diagnostics_and_roll_stats():
    import blockops.labels as L

    n = 3000
    t = (np.arange(n, dtype=np.int64) * 60_000_000_000 + 1_700_000_000_000_000_000)
    c = 100 + np.sin(np.arange(n) / 40.0) * 3
    c[1500:] += 50  # a roll
    bars = pd.DataFrame(dict(timestamp=t.astype("datetime64[ns]"), open=c, high=c + 0.5,
                             low=c - 0.5, close=c, volume=np.ones(n)))
    _, diag = L.barrier_labels(bars, diagnostics=True)
    h = diag._repr_html_()
    well_formed(h)
    assert f"{diag.rows:,}" in h and "win rate per mode" in h and "roll events" in h
    for k in diag.winners:
        assert k in h
    assert diag.roll.events >= 1 and f">{diag.roll.events}<" in diag.roll._repr_html_()


def test_pipeline_result():
    from blockops.v2x.pipeline import PipelineResult

    r = PipelineResult(rows_in=100, rows_skipped=1, rows_dropped_na=2, rows_filtered_out=7,
                       rows_out=90, seconds=1.5, stage_seconds={"read": 1.0, "write": 0.25},
                       peak_rss_bytes=300 << 20, output_dir="out", parts=3, bytes_in=10**6)
    r.check()
    h = r._repr_html_()
    well_formed(h)
    for text in (">100 (1 MB)<", ">90 in 3 parts<", "filtered out", ">7<", "300 MiB", "read",
                 "write"):
        assert text in h, text
    assert "rows in" in r.summary()


def test_show_config_prints_outside_a_notebook_and_has_a_table_view():
    buf = io.StringIO()
    blockops.show_config(file=buf)
    text = buf.getvalue()
    assert text.startswith("blockops ") and "SIMD selected" in text
    view = _config._ConfigView(_config.config_info(), text.rstrip("\n").split("\n"))
    h = view._repr_html_()
    well_formed(h)
    assert "SIMD selected" in h and repr(view) == text.rstrip("\n")
    assert not _config._in_notebook()


def test_plan_has_html():
    from blockops.resources import plan

    p = plan(memory_budget=8 << 30, n_cpus=4)
    assert "<table" in p._repr_html_()
    assert not math.isnan(p.block_size)


def test_html_table_labels_do_not_wrap_and_text_aligns_left():
    """show_config's values are text (left-aligned); every label stays on one line, whatever
    the length of a value (the compiler flags broke the labels in two in the rendered docs)."""
    from blockops import _html

    h = _html.table([("compiler flags", "-O3 " * 40), ("rows", 3)], "t", align="left")
    well_formed(h)
    assert h.count("white-space:nowrap") == 2 and h.count("text-align:left;padding") == 2
    assert _html.table([("rows", 3)]).count("text-align:right") == 1  # numbers: right
    view = _config._ConfigView(_config.config_info(), ["blockops x", "flags : -O3"])
    assert "<td style='text-align:left" in view._repr_html_()
