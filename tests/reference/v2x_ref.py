"""Plain pandas / Python references for the blockops.v2x operators.

Written the way the original pipeline does each step (string splitting, ``int(s, 16)``,
``datetime.strptime``, scikit-learn's split, per-row loops for the attacks), with no blockops
code except the random draws, which are passed in as ``draw(keys, stream, counter, low, high)``
(the generator itself is checked against its own pure-Python Philox reference in test_rng.py).
"""
from __future__ import annotations

import math
import re
from datetime import datetime

import numpy as np
import pandas as pd

from .geo_ref import destination_np, to_local_xy_np

POINT_RE = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$")
BSM_FMT = "%m/%d/%Y %I:%M:%S %p"


def parse_point(s: str) -> tuple[float, float]:
    m = POINT_RE.match(s)
    if not m:
        raise ValueError(s)
    return float(m.group(1)), float(m.group(2))


def hex_id(s) -> int:
    s = str(s).strip()
    if s.endswith(".0"):
        s = s[:-2]
    return int(s, 16)


def parse_time(s: str) -> datetime:
    try:
        return datetime.strptime(s, BSM_FMT)
    except ValueError:
        return datetime.fromisoformat(s)


def clean(df: pd.DataFrame, columns, dropna=True) -> pd.DataFrame:
    out = df[list(columns)].copy()
    if dropna:
        out = out.dropna()
    if "coreData_position" in columns:
        pts = [parse_point(s) if isinstance(s, str) else (math.nan, math.nan)
               for s in out["coreData_position"]]
        out = out.drop(columns=["coreData_position"])
        out["x_pos"] = np.array([p[0] for p in pts], dtype=np.float64)
        out["y_pos"] = np.array([p[1] for p in pts], dtype=np.float64)
    return out


def timestamp_parts(df: pd.DataFrame, column="metadata_generatedAt") -> pd.DataFrame:
    out = df.copy()
    ts = [parse_time(s) for s in df[column]]
    out["month"] = np.array([t.month for t in ts], dtype=np.int8)
    out["day"] = np.array([t.day for t in ts], dtype=np.int8)
    out["year"] = np.array([t.year for t in ts], dtype=np.int16)
    out["hour"] = np.array([t.hour for t in ts], dtype=np.int8)
    out["minute"] = np.array([t.minute for t in ts], dtype=np.int8)
    out["second"] = np.array([t.second for t in ts], dtype=np.int8)
    out["pm"] = np.array([0 if t.hour < 12 else 1 for t in ts], dtype=np.int8)
    return out


def select_attackers_sklearn(ids, ratio=0.3, seed=42):
    from sklearn.model_selection import train_test_split

    uniq = np.sort(pd.unique(np.asarray(ids)))
    if ratio <= 0:
        return uniq[:0]
    if ratio >= 1:
        return uniq
    _, test = train_test_split(uniq, test_size=ratio, random_state=seed)
    return np.sort(test)


def _move_xy(x, y, ang, dist):
    a = np.deg2rad(ang)
    return x + dist * np.cos(a), y + dist * np.sin(a)


def _move(x, y, ang, dist, coords):
    if coords == "xy":
        return _move_xy(x, y, ang, dist)
    lat2, lon2 = destination_np(y, x, ang, dist)
    return lon2, lat2


def attack(df: pd.DataFrame, kind: str, draw, *, coords="xy", direction_deg=45.0,
           distance_m=50.0, min_dist=25.0, max_dist=250.0, origin=None, pool=None,
           streams=None) -> pd.DataFrame:
    """Row-by-row reference of the six attacks; ``pool`` = (x, y, elevation) donor arrays."""
    out = df.copy()
    x = out["x_pos"].to_numpy(np.float64).copy()
    y = out["y_pos"].to_numpy(np.float64).copy()
    e = out["coreData_elevation"].to_numpy(np.float64).copy() \
        if "coreData_elevation" in out else None
    rows = np.flatnonzero(out["isAttacker"].to_numpy() == 1)
    keys_row = np.asarray(out.index, dtype=np.int64).view(np.uint64)
    if origin is None:
        ox, oy = 0.0, 0.0
    else:
        ox, oy = (origin[1], origin[0]) if coords == "latlon" else origin
    s = streams[kind] if streams and kind in streams else None
    for r in rows:
        one = lambda a: np.array([a], dtype=np.float64)  # noqa: E731
        if kind == "positional_offset_const":
            nx, ny = _move(one(x[r]), one(y[r]), one(direction_deg), one(distance_m), coords)
        elif kind in ("positional_offset_rand", "positional_override_rand"):
            k = keys_row[r:r + 1]
            ang = draw(k, s, 0, 0.0, 360.0)
            dist = draw(k, s, 1, min_dist, max_dist)
            if kind == "positional_offset_rand":
                nx, ny = _move(one(x[r]), one(y[r]), ang, dist, coords)
            else:
                nx, ny = _move(one(ox), one(oy), ang, dist, coords)
        elif kind == "positional_offset_const_per_id_with_random_direction":
            k = np.array([int(out["coreData_id"].iloc[r])], dtype=np.int64).view(np.uint64)
            ang = draw(k, s, 0, 0.0, 360.0)
            dist = draw(k, s, 1, min_dist, max_dist)
            nx, ny = _move(one(x[r]), one(y[r]), ang, dist, coords)
        elif kind == "positional_override_const":
            nx, ny = _move(one(ox), one(oy), one(direction_deg), one(distance_m), coords)
        elif kind == "positional_swap_rand":
            px, py, pe = pool
            u = draw(keys_row[r:r + 1], s, 0, 0.0, 1.0)[0]
            j = min(int(u * len(px)), len(px) - 1)
            nx, ny = one(px[j]), one(py[j])
            e[r] = pe[j]
        else:
            raise ValueError(kind)
        x[r], y[r] = nx[0], ny[0]
    out["x_pos"] = x
    out["y_pos"] = y
    if kind == "positional_swap_rand":
        out["coreData_elevation"] = e
    return out


def donor_pool(df: pd.DataFrame, size: int, priority) -> tuple:
    """Bottom-``size`` rows by (priority, row key): the donor pool, by sorting everything."""
    keys = np.asarray(df.index, dtype=np.int64).view(np.uint64)
    pr = priority(keys)
    order = sorted(range(len(df)), key=lambda i: (int(pr[i]), int(keys[i])))[:size]
    return (df["x_pos"].to_numpy(np.float64)[order], df["y_pos"].to_numpy(np.float64)[order],
            df["coreData_elevation"].to_numpy(np.float64)[order])


__all__ = ["attack", "clean", "donor_pool", "hex_id", "parse_point", "parse_time",
           "select_attackers_sklearn", "timestamp_parts", "to_local_xy_np"]
