"""Pure-Python reference of ``blockops.labels``, written straight from the rules of issue 5.

A bar-by-bar scan in plain Python floats, slow (O(n x horizon)): use it on a few hundred bars.
Timestamps are Python ints in nanoseconds since the epoch (UTC).

Where the issue leaves a choice, the choice made (and documented in docs/labels.md):

* "any bar whose scan meets an affected bar before its outcome -> 0": the scan checks each
  bar for roll-over before looking at its prices, so an affected bar at or before the target
  bar makes the label 0; an affected signal bar is 0 too.
* months are calendar months in UTC.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

_EPOCH = _dt.datetime(1970, 1, 1)


@dataclass
class RefMode:
    name: str
    direction: str  # "long" | "short"
    stop_ticks: float
    target_ticks: float


REF_MODES = [
    RefMode("low_vol_long", "long", 6, 12),
    RefMode("normal_vol_long", "long", 8, 16),
    RefMode("high_vol_long", "long", 10, 20),
    RefMode("low_vol_short", "short", 6, 12),
    RefMode("normal_vol_short", "short", 8, 16),
    RefMode("high_vol_short", "short", 10, 20),
]


def year_month(ns: int) -> tuple[int, int]:
    d = _EPOCH + _dt.timedelta(microseconds=ns // 1000)
    return d.year, d.month


def roll_affected(close, roll_threshold):
    """(affected flags, list of |change| of each event)."""
    n = len(close)
    affected = [False] * n
    changes = []
    for k in range(1, n):
        change = abs(close[k] - close[k - 1])
        if change > roll_threshold:
            changes.append(change)
            for g in range(k - 1, min(k + 5, n - 1) + 1):
                affected[g] = True
    return affected, changes


def reference_labels(ts, open_, high, low, close, *, modes=REF_MODES, tick_size=0.25,
                     horizon=900, decay_rate=0.05, roll_threshold=20.0, reference_ns=None):
    """Dict of lists: label_<m>, weight_<m>, mae_ticks_<m>, seconds_to_target_<m>;
    plus "_roll" = (events, bars_affected, max change, mean change)."""
    n = len(ts)
    affected, changes = roll_affected(close, roll_threshold)
    ref = reference_ns if reference_ns is not None else (ts[-1] if n else 0)
    ref_y, ref_m = year_month(ref)
    out = {}
    for mode in modes:
        long_ = mode.direction == "long"
        labels, weights, maes, secs = [], [], [], []
        for i in range(n):
            y, m = year_month(ts[i])
            months_ago = (ref_y - y) * 12 + (ref_m - m)
            decay = math.exp(-decay_rate * months_ago)
            label, mae, sec = 0, math.nan, math.nan
            if i < n - 1 and not affected[i]:
                entry = open_[i + 1]
                if long_:
                    target = entry + mode.target_ticks * tick_size
                    stop = entry - mode.stop_ticks * tick_size
                else:
                    target = entry - mode.target_ticks * tick_size
                    stop = entry + mode.stop_ticks * tick_size
                worst = 0.0
                for j in range(i + 1, min(i + horizon, n - 1) + 1):
                    if affected[j]:
                        break
                    adverse = entry - low[j] if long_ else high[j] - entry
                    worst = max(worst, adverse)
                    target_hit = high[j] >= target if long_ else low[j] <= target
                    stop_hit = low[j] <= stop if long_ else high[j] >= stop
                    if stop_hit:  # first, or in the same bar as the target
                        break
                    if target_hit:
                        label = 1
                        mae = worst / tick_size
                        sec = (ts[j] - ts[i + 1]) / 1e9
                        break
            if label:
                quality = min(max(2 - 1.5 * mae / mode.stop_ticks, 0.5), 2.0)
                velocity = min(max(2 - 1.5 * (sec - 300) / 600, 0.5), 2.0)
                weight = quality * velocity * decay
            else:
                weight = decay
            labels.append(label)
            weights.append(weight)
            maes.append(mae)
            secs.append(sec)
        out[f"label_{mode.name}"] = labels
        out[f"weight_{mode.name}"] = weights
        out[f"mae_ticks_{mode.name}"] = maes
        out[f"seconds_to_target_{mode.name}"] = secs
    out["_roll"] = (
        len(changes),
        sum(affected),
        max(changes) if changes else math.nan,
        (sum(changes) / len(changes)) if changes else math.nan,
    )
    return out
