"""blockops.labels against the pure-Python reference (tests/reference/labels_ref.py), plus
invariance to block size, partition count and thread count, validation errors, datetime units,
reference_time and the RTH check."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blockops
from blockops import labels as L
from blockops.labels import MODES, BarrierLabeler, Mode, barrier_labels
from reference.labels_ref import REF_MODES, RefMode, reference_labels

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- data


def make_bars(seed, n, *, step=2, wick=2, flat=0.3, price_gap=0.05, time_gap=0.05,
              roll_p=0.0, month_jumps=0.0, tick=0.25, start="2023-11-20T13:30:00"):
    """A random walk on the tick grid: integer ticks times ``tick``.

    Bars with equal highs/lows (``flat``: no wick), price gaps between bars, time gaps (and
    jumps of weeks, to cross months), roll jumps of 80 (exactly 20 points: not a roll), 81 and
    120 ticks."""
    rng = np.random.default_rng(seed)
    d = rng.integers(-step, step + 1, n)
    if roll_p:
        jump = rng.choice([80, 81, 120], n) * rng.choice([-1, 1], n)
        d = d + np.where(rng.random(n) < roll_p, jump, 0)
    g = np.where(rng.random(n) < price_gap, rng.integers(-4, 5, n), 0)
    if n:
        g[0] = 0
    o = 20000 + np.cumsum(g) + np.concatenate([[0], np.cumsum(d)[:-1]])[:n]
    c = o + d
    up = np.where(rng.random(n) < flat, 0, rng.integers(0, wick + 1, n))
    dn = np.where(rng.random(n) < flat, 0, rng.integers(0, wick + 1, n))
    h = np.maximum(o, c) + up
    lo = np.maximum(np.minimum(o, c) - dn, 1)
    dt = np.where(rng.random(n) < time_gap, rng.integers(2, 3600, n), 1)
    if month_jumps:
        dt = dt + np.where(rng.random(n) < month_jumps, rng.integers(86400 * 10, 86400 * 45, n), 0)
    ts = np.datetime64(start, "ns") + np.cumsum(dt).astype("timedelta64[s]")
    return pd.DataFrame({
        "timestamp": ts, "open": o * tick, "high": h * tick, "low": lo * tick,
        "close": c * tick, "volume": rng.integers(0, 100, n).astype(np.float64),
    })


def ref_of(df, modes=REF_MODES, **kw):
    ts = df["timestamp"].to_numpy().astype("datetime64[ns]").view(np.int64).tolist()
    return reference_labels(ts, df["open"].tolist(), df["high"].tolist(), df["low"].tolist(),
                            df["close"].tolist(), modes=modes, **kw)


def assert_matches_ref(out, ref, modes, details=True):
    for m in modes:
        lab = out[f"label_{m.name}"].to_numpy()
        want = np.array(ref[f"label_{m.name}"], dtype=np.int8)
        bad = np.nonzero(lab != want)[0]
        assert bad.size == 0, f"{m.name}: labels differ at bars {bad[:10]}"
        assert out[f"label_{m.name}"].dtype == np.int8
        w = out[f"weight_{m.name}"]
        assert w.dtype == np.float32
        np.testing.assert_allclose(w.to_numpy(), np.array(ref[f"weight_{m.name}"], np.float32),
                                   rtol=2.0 ** -23, atol=0, err_msg=m.name)
        if details:
            np.testing.assert_allclose(out[f"mae_ticks_{m.name}"].to_numpy(),
                                       np.array(ref[f"mae_ticks_{m.name}"], np.float32),
                                       rtol=2.0 ** -23, err_msg=m.name)
            np.testing.assert_allclose(out[f"seconds_to_target_{m.name}"].to_numpy(),
                                       np.array(ref[f"seconds_to_target_{m.name}"], np.float32),
                                       rtol=2.0 ** -23, err_msg=m.name)


def to_ref_modes(modes):
    return [RefMode(m.name, m.direction, m.stop_ticks, m.target_ticks) for m in modes]


walk = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1),
    "n": st.integers(1, 220),
    "step": st.integers(0, 5),
    "wick": st.integers(0, 4),
    "flat": st.sampled_from([0.0, 0.5, 1.0]),
    "roll_p": st.sampled_from([0.0, 0.02, 0.1]),
    "month_jumps": st.sampled_from([0.0, 0.02]),
})


# --------------------------------------------------------------------------- vs reference


@SETTINGS
@given(w=walk, horizon=st.integers(1, 70))
def test_default_modes_match_reference(w, horizon):
    df = make_bars(**w)
    out, diag = barrier_labels(df, horizon=horizon, details=True, diagnostics=True, n_threads=2)
    ref = ref_of(df, horizon=horizon)
    assert_matches_ref(out, ref, MODES)
    ev, bars, mx, mean = ref["_roll"]
    assert (diag.roll.events, diag.roll.bars_affected) == (ev, bars)
    if ev:
        assert diag.roll.max_price_change == mx
        assert math.isclose(diag.roll.mean_price_change, mean, rel_tol=1e-12)
    else:
        assert math.isnan(diag.roll.max_price_change) and math.isnan(diag.roll.mean_price_change)
    assert diag.rows == len(df)
    assert diag.winners == {m.name: int(out[f"label_{m.name}"].sum()) for m in MODES}


mode_st = st.builds(
    lambda i, d, s, t: Mode(f"m{i}", d, s, t),
    st.integers(0, 10**6), st.sampled_from(["long", "short"]),
    st.sampled_from([1, 2, 2.5, 3, 6, 8]), st.sampled_from([1, 2, 4, 5.5, 12]),
)


@SETTINGS
@given(w=walk, horizon=st.integers(1, 40),
       modes=st.lists(mode_st, min_size=1, max_size=4, unique_by=lambda m: m.name),
       tick=st.sampled_from([0.25, 0.1, 1.0, 0.01]),
       roll=st.sampled_from([20.0, 5.0, None]),
       decay=st.sampled_from([0.05, 0.0, 0.3]))
def test_custom_modes_and_ticks_match_reference(w, horizon, modes, tick, roll, decay):
    df = make_bars(**w, tick=tick)
    out = barrier_labels(df, modes=modes, tick_size=tick, horizon=horizon, details=True,
                         roll_threshold=roll, decay_rate=decay)
    ref = ref_of(df, modes=to_ref_modes(modes), tick_size=tick, horizon=horizon,
                 roll_threshold=math.inf if roll is None else roll, decay_rate=decay)
    assert_matches_ref(out, ref, modes)
    assert list(out.columns) == [c for c, _ in L.output_columns(modes, details=True)]


def flat_bars(n, price=4000.0, start="2024-03-05T14:00:00"):
    ts = pd.date_range(start, periods=n, freq="s")
    p = np.full(n, price)
    return pd.DataFrame({"timestamp": ts, "open": p, "high": p.copy(), "low": p.copy(),
                         "close": p.copy()})


def test_target_on_last_bar_of_horizon():
    H = 10
    df = flat_bars(40)
    # signal bar 5: entry bar 6 at 4000; long 6/12 target 4003 touched exactly on bar 5 + H
    df.loc[5 + H, "high"] = 4003.0
    out = barrier_labels(df, horizon=H, details=True)
    assert out.loc[5, "label_low_vol_long"] == 1
    assert out.loc[5, "seconds_to_target_low_vol_long"] == H - 1
    assert out.loc[5, "mae_ticks_low_vol_long"] == 0
    # one bar further (bar 4's horizon ends at 14) it is out of reach
    assert out.loc[4, "label_low_vol_long"] == 0
    # a quarter tick below the target is not a hit
    df.loc[5 + H, "high"] = 4002.75
    assert barrier_labels(df, horizon=H).loc[5, "label_low_vol_long"] == 0
    assert_matches_ref(barrier_labels(df, horizon=H, details=True), ref_of(df, horizon=H), MODES)


def test_both_barriers_in_one_bar_is_zero_and_stop_first_is_zero():
    df = flat_bars(30)
    df.loc[8, ["high", "low"]] = [4003.0, 3998.5]   # long 6/12: target 4003 and stop 3998.5
    out = barrier_labels(df, horizon=20)
    assert out.loc[3, "label_low_vol_long"] == 0
    assert out.loc[3, "label_low_vol_short"] == 0       # short target 3997 not reached
    df.loc[8, "low"] = 3998.75                          # stop no longer touched
    out = barrier_labels(df, horizon=20)
    assert out.loc[3, "label_low_vol_long"] == 1
    df.loc[6, "low"] = 3998.5                           # stop first, target later
    out = barrier_labels(df, horizon=20)
    assert out.loc[3, "label_low_vol_long"] == 0


def test_last_bar_and_tiny_inputs():
    for n in (0, 1, 2, 3):
        df = make_bars(3, n)
        out = barrier_labels(df, horizon=5)
        assert len(out) == n and list(out.index) == list(df.index)
        if n:
            assert (out.iloc[-1][[f"label_{m.name}" for m in MODES]] == 0).all()
            assert_matches_ref(barrier_labels(df, horizon=5, details=True), ref_of(df, horizon=5),
                               MODES)
    df = flat_bars(5)
    df.loc[4, "high"] = 4010.0
    out = barrier_labels(df, horizon=3)
    assert out["label_low_vol_long"].tolist() == [0, 1, 1, 1, 0]


def test_roll_over_rules():
    df = flat_bars(60)
    # a roll at bar 30 (close jumps 25 points, then stays there)
    for c in ("open", "high", "low", "close"):
        df.loc[30:, c] = 4025.0
    df.loc[20, "high"] = 4003.0  # target of bars ~8..18 (long 6/12)
    out, diag = barrier_labels(df, horizon=40, diagnostics=True)
    assert diag.roll.events == 1 and diag.roll.bars_affected == 7
    assert diag.roll.max_price_change == 25.0 == diag.roll.mean_price_change
    lab = out["label_low_vol_long"]
    # target bar 20 before the affected bars 29..35: winners stay
    assert lab[10] == 1 and lab[18] == 1
    # signal bars 29..35 are affected; bar 25's scan meets bar 29 before any outcome
    assert (lab[29:36] == 0).all()
    # now put the target after the roll window: the scan meets affected bars first -> 0
    df.loc[20, "high"] = 4000.0
    df.loc[40, "high"] = 4028.0
    out = barrier_labels(df, horizon=40)
    assert out.loc[10, "label_low_vol_long"] == 0
    assert out.loc[36, "label_low_vol_long"] == 1  # after the window: a normal winner
    # exactly 20 points is not a roll (> threshold)
    df2 = flat_bars(20)
    for c in ("open", "high", "low", "close"):
        df2.loc[10:, c] = 4020.0
    assert barrier_labels(df2, diagnostics=True)[1].roll.events == 0
    assert barrier_labels(df2, diagnostics=True, roll_threshold=19.75)[1].roll.events == 1


# --------------------------------------------------------------------------- invariance


@SETTINGS
@given(w=walk, horizon=st.integers(1, 50), sizes=st.lists(st.integers(1, 90), min_size=1,
                                                          max_size=12))
def test_streaming_equals_one_pass_for_any_block_size(w, horizon, sizes):
    df = make_bars(**w)
    df.index = df.index * 3 + 7  # a non-default index must be kept
    cuts, pos, k = [], 0, 0
    while pos < len(df):
        s = sizes[k % len(sizes)]
        cuts.append(df.iloc[pos:pos + s])
        pos += s
        k += 1
    lab = BarrierLabeler(horizon=horizon, details=True)
    frames = list(lab.label_blocks(cuts))
    one, diag = barrier_labels(df, horizon=horizon, details=True, diagnostics=True)
    if len(df):
        pd.testing.assert_frame_equal(pd.concat(frames), pd.concat([df, one], axis=1))
    assert lab.diagnostics.rows == len(df)
    assert lab.diagnostics.winners == diag.winners
    assert (lab.diagnostics.roll.events, lab.diagnostics.roll.bars_affected) == (
        diag.roll.events, diag.roll.bars_affected)


def test_thread_count_invariance():
    df = make_bars(11, 120_000, roll_p=0.001, month_jumps=1e-4)
    outs = [barrier_labels(df, horizon=900, details=True, n_threads=t) for t in (1, 2, 3)]
    for o in outs[1:]:
        pd.testing.assert_frame_equal(outs[0], o)
    # and the one-pass result over 120 K bars (several kernel blocks) agrees with streaming
    frames = list(BarrierLabeler(horizon=900, details=True, n_threads=3).label_blocks(
        [df.iloc[i:i + 25_000] for i in range(0, len(df), 25_000)]))
    pd.testing.assert_frame_equal(pd.concat(frames), pd.concat([df, outs[0]], axis=1))


def test_segmented_calls_equal_one_call(monkeypatch):
    df = make_bars(12, 5000, roll_p=0.01)
    full, d1 = barrier_labels(df, horizon=300, diagnostics=True)
    monkeypatch.setattr(L, "_SEGMENT", 333)
    seg, d2 = barrier_labels(df, horizon=300, diagnostics=True)
    pd.testing.assert_frame_equal(full, seg)
    assert (d1.roll.events, d1.roll.bars_affected) == (d2.roll.events, d2.roll.bars_affected)


# --------------------------------------------------------------------------- streaming sources


def test_streaming_reference_time_sources():
    df = make_bars(4, 400, month_jumps=0.05)
    blocks = [df.iloc[i:i + 64] for i in range(0, len(df), 64)]
    want = pd.concat([df, barrier_labels(df, horizon=30)], axis=1)
    lab = BarrierLabeler(horizon=30)
    # list (re-iterable), tuple, callable: pre-pass finds the latest timestamp
    for src in (blocks, tuple(blocks), lambda: iter(blocks)):
        pd.testing.assert_frame_equal(pd.concat(list(lab.label_blocks(src))), want)
        assert lab.diagnostics.reference_time == df["timestamp"].iloc[-1]
    # a one-shot generator cannot be read twice: a clear error at once
    with pytest.raises(ValueError, match="reference_time"):
        lab.label_blocks(b for b in blocks)
    # ... unless reference_time is given
    ref = df["timestamp"].iloc[-1]
    got = pd.concat(list(BarrierLabeler(horizon=30, reference_time=ref).label_blocks(
        b for b in blocks)))
    pd.testing.assert_frame_equal(got, want)
    # a different reference time changes the weights (decay), not the labels
    later = BarrierLabeler(horizon=30, reference_time=ref + pd.Timedelta(days=400))
    got = pd.concat(list(later.label_blocks(iter(blocks))))
    assert (got["label_low_vol_long"] == want["label_low_vol_long"]).all()
    assert (got["weight_low_vol_long"] < want["weight_low_vol_long"]).all()
    # wrong block types and mismatched columns
    with pytest.raises(TypeError, match="one DataFrame"):
        BarrierLabeler(reference_time=ref).label_blocks(df)
    with pytest.raises(TypeError, match="DataFrame"):
        list(BarrierLabeler(reference_time=ref).label_blocks([df.to_dict()]))
    with pytest.raises(ValueError, match="columns"):
        list(BarrierLabeler(reference_time=ref, horizon=5).label_blocks(
            [df.iloc[:10], df.iloc[10:20].drop(columns="volume")]))


def test_streaming_error_names_global_row():
    df = make_bars(5, 300)
    df.loc[250, "low"] = df.loc[250, "high"] + 1
    blocks = [df.iloc[i:i + 40] for i in range(0, len(df), 40)]
    with pytest.raises(blockops.BlockopsDomainError, match=r"row 250 \(index 250\).*high") as ei:
        list(BarrierLabeler(horizon=20).label_blocks(blocks))
    assert ei.value.row == 250 and ei.value.column == "high"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("col,value,pattern,column", [
    ("open", np.nan, "open is NaN", "open"),
    ("close", np.inf, "close is infinite", "close"),
    ("low", 0.0, "low is not positive", "low"),
    ("open", -4000.0, "open is not positive", "open"),
    ("high", "low-", r"high \(.*\) is below low", "high"),
    ("high", "open-", r"high \(.*\) is below open", "high"),
    ("low", "close+", r"low \(.*\) is above close", "low"),
    ("volume", -1.0, "volume is negative", "volume"),
    ("volume", np.nan, "volume is NaN", "volume"),
    ("timestamp", "back", "earlier than the previous row", "timestamp"),
    ("timestamp", "nat", "timestamp is NaT", "timestamp"),
])
def test_validation_errors_name_the_row(col, value, pattern, column):
    df = make_bars(6, 50, flat=0.0, wick=1)
    df.index = pd.RangeIndex(100, 150)
    r = 37
    if value == "low-":
        df.loc[100 + r, "high"] = df.loc[100 + r, "low"] - 0.25
    elif value == "open-":
        df.loc[100 + r, ["open", "close", "low"]] = [4000.0, 3999.0, 3998.0]
        df.loc[100 + r, "high"] = 3999.5
    elif value == "close+":
        df.loc[100 + r, ["open", "close", "high"]] = [4000.0, 3999.0, 4001.0]
        df.loc[100 + r, "low"] = 3999.5
    elif value == "back":
        df.loc[100 + r, "timestamp"] = df.loc[100 + r - 1, "timestamp"] - pd.Timedelta("1ms")
    elif value == "nat":
        df.loc[100 + r, "timestamp"] = pd.NaT
    else:
        df.loc[100 + r, col] = value
    with pytest.raises(blockops.BlockopsDomainError, match=pattern) as ei:
        barrier_labels(df, horizon=10)
    e = ei.value
    assert isinstance(e, ValueError)
    assert f"row {r} (index {100 + r})" in str(e)
    assert e.row == r and e.column == column and e.label == 100 + r


def test_first_bad_row_wins_across_threads_and_blocks():
    df = make_bars(7, 60_000)
    df.loc[50_000, "open"] = np.nan
    df.loc[20_001, "close"] = -1.0
    for t in (1, 2, 3):
        with pytest.raises(blockops.BlockopsDomainError, match="row 20001"):
            barrier_labels(df, n_threads=t)


@pytest.mark.parametrize("kw,exc,pattern", [
    ({"tick_size": 0}, ValueError, "tick_size"),
    ({"tick_size": float("nan")}, ValueError, "tick_size"),
    ({"tick_size": "a"}, TypeError, "tick_size"),
    ({"horizon": 0}, ValueError, "horizon"),
    ({"horizon": 2.5}, TypeError, "horizon"),
    ({"decay_rate": float("inf")}, ValueError, "decay_rate"),
    ({"roll_threshold": -1}, ValueError, "roll_threshold"),
    ({"rth": "maybe"}, ValueError, "rth"),
    ({"modes": []}, ValueError, "modes is empty"),
    ({"modes": [("a", "long", 6, 12), ("a", "short", 6, 12)]}, ValueError, "unique"),
    ({"modes": [("a", "up", 6, 12)]}, ValueError, "direction"),
    ({"modes": [("a", "long", 0, 12)]}, ValueError, "stop_ticks"),
    ({"modes": [("a", "long", 6, float("inf"))]}, ValueError, "target_ticks"),
    ({"modes": MODES[0]}, TypeError, "sequence of Mode"),
    ({"n_threads": 0}, ValueError, "n_threads"),
    ({"reference_time": "not a time"}, ValueError, "reference_time"),
])
def test_argument_errors(kw, exc, pattern):
    df = make_bars(8, 20)
    with pytest.raises(exc, match=pattern):
        barrier_labels(df, **kw)


def test_input_errors():
    df = make_bars(9, 20)
    with pytest.raises(ValueError, match="missing column 'high'"):
        barrier_labels(df.drop(columns="high"))
    with pytest.raises(TypeError, match="datetime64"):
        barrier_labels(df.assign(timestamp=np.arange(20)))
    with pytest.raises(ValueError, match="DatetimeIndex"):
        barrier_labels(df.drop(columns="timestamp"))
    with pytest.raises(TypeError, match="numeric"):
        barrier_labels(df.assign(open=["x"] * 20))
    with pytest.raises(TypeError, match="DataFrame or a mapping"):
        barrier_labels([1, 2, 3])


# --------------------------------------------------------------------------- timestamps


def test_datetime_units_and_time_zones_give_the_same_answer():
    df = make_bars(10, 300, month_jumps=0.03, time_gap=0.3)
    base = barrier_labels(df, horizon=40, details=True)
    for unit in ("s", "ms", "us"):
        d2 = df.assign(timestamp=df["timestamp"].astype(f"datetime64[{unit}]"))
        pd.testing.assert_frame_equal(barrier_labels(d2, horizon=40, details=True), base)
    for tz in ("UTC", "America/Chicago", "Asia/Tokyo"):
        d3 = df.assign(timestamp=df["timestamp"].dt.tz_localize("UTC").dt.tz_convert(tz))
        pd.testing.assert_frame_equal(barrier_labels(d3, horizon=40, details=True), base)
    # a DatetimeIndex instead of a column; a mapping of NumPy arrays
    d4 = df.set_index("timestamp")
    out = barrier_labels(d4, horizon=40, details=True)
    assert (out.index == d4.index).all()
    np.testing.assert_array_equal(out.to_numpy(), base.to_numpy())
    m = {k: df[k].to_numpy() for k in df.columns}
    pd.testing.assert_frame_equal(barrier_labels(m, horizon=40, details=True), base)
    # sub-second timestamps: seconds_to_target keeps the fraction, in every unit
    d5 = df.assign(timestamp=df["timestamp"] + pd.to_timedelta(np.arange(300) * 250, "ms"))
    a = barrier_labels(d5, horizon=40, details=True)
    b = barrier_labels(d5.assign(timestamp=d5["timestamp"].astype("datetime64[ms]")), horizon=40,
                       details=True)
    pd.testing.assert_frame_equal(a, b)
    assert_matches_ref(a, ref_of(d5, horizon=40), MODES)


def test_reference_time_and_months_ago():
    ts = pd.to_datetime(["2023-12-31 23:59:59", "2024-01-01 00:00:00", "2024-03-15 12:00:00",
                         "2024-03-31 23:00:00"])
    p = np.full(4, 4000.0)
    df = pd.DataFrame({"timestamp": ts, "open": p, "high": p, "low": p, "close": p})
    w = barrier_labels(df)["weight_low_vol_long"].to_numpy()   # all losers: weight = decay
    np.testing.assert_allclose(w, np.exp(-0.05 * np.array([3, 2, 0, 0])).astype(np.float32),
                               rtol=2**-23)
    w2 = barrier_labels(df, reference_time="2025-01-10")["weight_low_vol_long"].to_numpy()
    np.testing.assert_allclose(w2, np.exp(-0.05 * np.array([13, 12, 10, 10])).astype(np.float32),
                               rtol=2**-23)
    # tz-aware reference: 2024-04-01 02:00 in Tokyo is still March in UTC
    w3 = barrier_labels(df, reference_time=pd.Timestamp("2024-04-01 02:00", tz="Asia/Tokyo"))
    np.testing.assert_array_equal(w3["weight_low_vol_long"].to_numpy(), w)
    # a reference before the data gives months_ago < 0, by the formula
    w4 = barrier_labels(df, reference_time="2023-11-05")["weight_low_vol_long"].to_numpy()
    np.testing.assert_allclose(w4, np.exp(-0.05 * np.array([-1, -2, -4, -4])).astype(np.float32),
                               rtol=2**-23)
    _, diag = barrier_labels(df, diagnostics=True)
    assert diag.reference_time == ts[-1]


def test_rth_check():
    df = flat_bars(10, start="2024-07-01T12:29:58")   # 07:29:58 CDT (UTC-5)
    with pytest.warns(L.OutsideRTHWarning, match="2 of 10 bars.*row 0"):
        _, d = barrier_labels(df, rth="warn", diagnostics=True)
    assert d.outside_rth == 2
    with pytest.raises(blockops.BlockopsDomainError, match="row 0"):
        barrier_labels(df, rth="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        barrier_labels(df)                              # default: ignore
        barrier_labels(df.iloc[2:], rth="raise")        # 07:30:00 is inside
        # winter (CST, UTC-6): 21:00 UTC is 15:00 (inside); 21:00:01 is not
        late = flat_bars(2, start="2024-01-10T21:00:00")
        barrier_labels(late.iloc[:1], rth="raise")
    with pytest.raises(blockops.BlockopsDomainError, match="1 of 2 bars"):
        barrier_labels(late, rth="raise")
    # streaming warns once with the total
    blocks = [df.iloc[:4], df.iloc[4:]]
    with pytest.warns(L.OutsideRTHWarning, match="2 of 10 bars"):
        list(BarrierLabeler(horizon=3, rth="warn").label_blocks(blocks))


def test_diagnostics_quality_flags():
    df = make_bars(13, 2000, step=3)
    _, d = barrier_labels(df, diagnostics=True)
    for name, rate in d.win_rate.items():
        assert rate == d.winners[name] / 2000
        assert (name in d.quality_flags) == (not 0.05 <= rate <= 0.5)


# --------------------------------------------------------------------------- dask


dask = pytest.importorskip("dask", reason="dask is not installed")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=walk, horizon=st.integers(1, 60), nparts=st.integers(1, 9))
def test_dask_equals_one_pass_for_any_partition_count(w, horizon, nparts):
    import dask.dataframe as dd

    from blockops import dask as bdask

    df = make_bars(**w)
    ddf = dd.from_pandas(df, npartitions=nparts, sort=True)
    out, diag = bdask.barrier_labels(ddf, horizon=horizon, details=True, diagnostics=True)
    got = out.compute(scheduler="sync")
    want, wdiag = barrier_labels(df, horizon=horizon, details=True, diagnostics=True)
    pd.testing.assert_frame_equal(got, want)
    d = diag.compute(scheduler="sync")
    assert d.winners == wdiag.winners and d.rows == wdiag.rows
    assert (d.roll.events, d.roll.bars_affected) == (wdiag.roll.events, wdiag.roll.bars_affected)
    assert d.reference_time == wdiag.reference_time


def test_dask_meta_index_errors_and_reference_time():
    import dask.dataframe as dd

    from blockops import dask as bdask

    df = make_bars(14, 300).set_index("timestamp")
    ddf = dd.from_pandas(df, npartitions=4)
    out = bdask.barrier_labels(ddf, horizon=100, reference_time="2025-06-01")
    assert list(out.columns) == [c for c, _ in L.output_columns(MODES)]
    assert dict(out.dtypes) == dict(L.output_columns(MODES))
    assert out.divisions == ddf.divisions
    pd.testing.assert_frame_equal(out.compute(scheduler="sync"),
                                  barrier_labels(df, horizon=100, reference_time="2025-06-01"))
    # unknown divisions work too
    got = bdask.barrier_labels(ddf.clear_divisions(), horizon=100).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, barrier_labels(df, horizon=100))
    bad = make_bars(14, 300)
    bad.loc[222, "high"] = np.nan
    with pytest.raises(blockops.BlockopsDomainError, match="row 222"):
        bdask.barrier_labels(dd.from_pandas(bad, npartitions=5), horizon=10).compute(
            scheduler="sync")
    with pytest.raises(ValueError, match="missing column 'close'"):
        bdask.barrier_labels(dd.from_pandas(bad.drop(columns="close"), npartitions=2))


def test_dask_distributed_processes():
    distributed = pytest.importorskip("distributed", reason="distributed is not installed")
    import dask.dataframe as dd

    from blockops import dask as bdask

    df = make_bars(15, 3000, roll_p=0.005)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        got = bdask.barrier_labels(dd.from_pandas(df, npartitions=6), horizon=900).compute()
        assert client.status == "running"
    pd.testing.assert_frame_equal(got, barrier_labels(df, horizon=900))


def test_duplicate_index_labels_are_kept_by_position():
    df = make_bars(16, 200, roll_p=0.02)
    blocks = [df.iloc[i:i + 50].reset_index(drop=True) for i in range(0, 200, 50)]
    dup = pd.concat(blocks)                      # index 0..49 four times
    one = barrier_labels(dup, horizon=30)
    assert list(one.index) == list(dup.index)
    np.testing.assert_array_equal(one.to_numpy(), barrier_labels(df, horizon=30).to_numpy())
    got = pd.concat(list(BarrierLabeler(horizon=30).label_blocks(blocks)))
    assert list(got.index) == list(dup.index)
    np.testing.assert_array_equal(got[one.columns].to_numpy(), one.to_numpy())


def test_label_blocks_progress_bar(capsys):
    """progress=True shows a tqdm bar of the blocks (stderr outside a notebook); the labels
    are the same as without it."""
    n = 2000
    t = (np.arange(n, dtype=np.int64) * 60_000_000_000 + 1_700_000_000_000_000_000)
    c = 100 + np.sin(np.arange(n) / 30.0) * 2
    df = pd.DataFrame(dict(timestamp=t.astype("datetime64[ns]"), open=c, high=c + 0.5,
                           low=c - 0.5, close=c, volume=np.ones(n)))
    blocks = [df.iloc[i:i + 500] for i in range(0, n, 500)]
    plain = pd.concat(list(L.BarrierLabeler().label_blocks(blocks)))
    shown = pd.concat(list(L.BarrierLabeler().label_blocks(blocks, progress=True)))
    pd.testing.assert_frame_equal(plain, shown)
    err = capsys.readouterr().err
    assert "labels" in err and "4/4" in err and "rows=2,000" in err
