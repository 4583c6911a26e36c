"""One shared generator of hostile inputs for the geo kernels (bottleneck keeps one too).

Everything is deterministic (seeded) so a failure reproduces.  Building blocks:

* ``LENGTHS``: 0..33 (every SIMD tail for 2/4/8/16 lanes, and 2x16+1) and a larger one.
* ``pair_categories()``: labelled float64 point pairs, all latitudes in [-90, 90]:
  random on the sphere, poles (exact and near), the antimeridian (+-180, 179.9999 vs
  -179.9999), identical points, exact antipodes, near antipodes, points 1 m apart, and
  distances spread log-uniformly from 1 m to 19,900 km.
* ``nonfinite_pairs()``: NaN / inf in every slot that validation does not reject.
* ``pair_pool(dtype)`` / ``hostile_pairs(dtype, n)``: all of the above mixed and shuffled.
* ``layout(arr, kind)`` / ``LAYOUTS``: the same values in hostile memory: strided (with NaN
  in the gaps, so reading the gap shows), reversed (negative stride), read-only, unaligned,
  byte-swapped.
* ``points_around()``, ``destination_inputs()``, ``bbox_cases()``: inputs for the other kernels.

Nothing here imports blockops.
"""
from __future__ import annotations

import math

import numpy as np

from . import geo_ref

R = geo_ref.EARTH_RADIUS_M
HALF_CIRC = geo_ref.HALF_CIRCUMFERENCE_M
MAX_STRICT_M = 19_900_000.0  # issue 2: 1e-12 relative from 1 m up to 19,900 km

LENGTHS = tuple(range(34)) + (1000,)
FLOAT_DTYPES = (np.float32, np.float64)
LAYOUTS = ("contiguous", "strided", "reversed", "readonly", "unaligned", "byteswapped")

ANTIMERIDIAN_LONS = (180.0, -180.0, 179.9999, -179.9999, 179.99999999, -179.99999999)
POLE_LATS = (90.0, -90.0, 89.9999999, -89.9999999, 89.99, -89.99, 89.0, -89.0)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def uniform_sphere(r: np.random.Generator, n: int):
    """n points uniform on the sphere (lat, lon) in degrees, float64."""
    lat = np.degrees(np.arcsin(r.uniform(-1.0, 1.0, n)))
    lon = r.uniform(-180.0, 180.0, n)
    return lat, lon


def log_uniform(r: np.random.Generator, n: int, lo: float, hi: float):
    return np.exp(r.uniform(math.log(lo), math.log(hi), n))


def _starts(r: np.random.Generator, n: int):
    """Start points: mostly uniform, some on/near the poles and on/near the antimeridian."""
    lat, lon = uniform_sphere(r, n)
    k = n // 4
    lat[:k] = r.choice(POLE_LATS, k)
    lon[k:2 * k] = r.choice(ANTIMERIDIAN_LONS, k)
    return lat, lon


def _clip_lat(lat):
    return np.clip(lat, -90.0, 90.0)


def pair_categories(seed: int = 0, n: int = 64) -> dict:
    """Labelled float64 pairs {name: (lat1, lon1, lat2, lon2)}, every latitude in [-90, 90]."""
    r = rng(seed)
    cats = {}

    lat1, lon1 = uniform_sphere(r, n)
    lat2, lon2 = uniform_sphere(r, n)
    cats["random"] = (lat1, lon1, lat2, lon2)

    # poles: exact poles to anywhere, pole to pole (same and other), near poles, tiny steps
    la1 = np.array([90.0, -90.0, 90.0, 90.0, -90.0, 90.0, 89.9999999, -89.9999999,
                    90.0, 89.99999999999, -90.0, 90.0])
    lo1 = np.array([0.0, 0.0, 17.0, -123.0, 45.0, 180.0, 0.0, 179.0, 0.0, 10.0, 0.0, 0.0])
    la2 = np.array([0.0, 0.0, 90.0, 90.0, 90.0, -90.0, 89.9999999, -89.9999999,
                    89.99999, 89.99999999999, -89.99999, 89.999991])
    lo2 = np.array([0.0, 0.0, -163.0, 57.0, 45.0, -180.0, 180.0, -1.0, 90.0, -170.0, 180.0, 180.0])
    m = n // 2
    s_lat, s_lon = uniform_sphere(r, m)
    p_lat = r.choice(POLE_LATS, m)
    p_lon = r.uniform(-180, 180, m)
    cats["poles"] = (np.concatenate([la1, p_lat]), np.concatenate([lo1, p_lon]),
                     np.concatenate([la2, s_lat]), np.concatenate([lo2, s_lon]))

    # antimeridian: the two sides of +-180, short and long hops across it
    a = np.array(ANTIMERIDIAN_LONS)
    lo1 = np.concatenate([a, -a, [180.0, -180.0, 179.9999, 180.0]])
    lo2 = np.concatenate([-a, a, [-180.0, 180.0, -179.9999, 179.9999]])
    la = r.uniform(-80, 80, lo1.size)
    la2 = la + r.uniform(-0.001, 0.001, lo1.size)
    m = n // 2
    st_lat = r.uniform(-85, 85, m)
    st_lon = r.choice(ANTIMERIDIAN_LONS, m)
    d_lat, d_lon = geo_ref.destination_np(st_lat, st_lon, r.choice([90.0, 270.0, 45.0, 225.0], m),
                                          log_uniform(r, m, 1.0, 2.0e6))
    cats["antimeridian"] = (np.concatenate([la, st_lat]), np.concatenate([lo1, st_lon]),
                            _clip_lat(np.concatenate([la2, d_lat])), np.concatenate([lo2, d_lon]))

    lat, lon = _starts(r, n)
    lat = np.concatenate([lat, [90.0, -90.0, 0.0, 0.0]])
    lon = np.concatenate([lon, [180.0, -180.0, 180.0, -180.0]])
    cats["identical"] = (lat, lon, lat.copy(), lon.copy())

    lat, lon = _starts(r, n)
    lat = np.concatenate([lat, [90.0, 0.0, 0.0, 45.0, 0.0]])
    lon = np.concatenate([lon, [0.0, 0.0, 180.0, 90.0, -180.0]])
    anti_lon = np.where(lon > 0, lon - 180.0, lon + 180.0)
    cats["antipodal"] = (lat, lon, -lat, anti_lon)

    lat, lon = _starts(r, n)
    dist = HALF_CIRC - log_uniform(r, n, 1e-3, HALF_CIRC - MAX_STRICT_M)
    d_lat, d_lon = geo_ref.destination_np(lat, lon, r.uniform(0, 360, n), dist)
    cats["near_antipodal"] = (lat, lon, _clip_lat(d_lat), d_lon)

    lat, lon = _starts(r, n)
    d_lat, d_lon = geo_ref.destination_np(lat, lon, r.uniform(0, 360, n), np.full(n, 1.0))
    cats["one_metre"] = (lat, lon, _clip_lat(d_lat), d_lon)

    m = 4 * n
    lat, lon = _starts(r, m)
    d_lat, d_lon = geo_ref.destination_np(lat, lon, r.uniform(0, 360, m),
                                          log_uniform(r, m, 1.0, MAX_STRICT_M))
    cats["log_uniform"] = (lat, lon, _clip_lat(d_lat), d_lon)
    return cats


def nonfinite_pairs():
    """(lat1, lon1, lat2, lon2) float64 with NaN anywhere and +-inf in longitudes.

    +-inf latitudes are out of [-90, 90] and belong to the validation tests instead.
    """
    nan, inf = np.nan, np.inf
    rows = [
        (nan, 0.0, 10.0, 10.0), (0.0, nan, 10.0, 10.0), (0.0, 0.0, nan, 10.0),
        (0.0, 0.0, 10.0, nan), (nan, nan, nan, nan), (0.0, inf, 10.0, 10.0),
        (0.0, -inf, 10.0, 10.0), (0.0, 0.0, 10.0, inf), (90.0, nan, 90.0, 0.0),
        (nan, 180.0, 0.0, -180.0), (45.0, 10.0, 45.0, -inf),
    ]
    a = np.array(rows, dtype=np.float64)
    return a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy()


def pair_pool(dtype=np.float64, seed: int = 0, nonfinite: bool = True, n: int = 64):
    """All categories (and non-finite rows) concatenated, shuffled, cast to dtype.

    Returns (lat1, lon1, lat2, lon2, labels).
    """
    cats = pair_categories(seed, n)
    parts = list(cats.items())
    if nonfinite:
        parts.append(("nonfinite", nonfinite_pairs()))
    cols = [np.concatenate([p[1][j] for p in parts]) for j in range(4)]
    labels = np.concatenate([np.full(p[1][0].size, p[0]) for p in parts])
    perm = rng(seed + 1).permutation(labels.size)
    cols = [np.ascontiguousarray(c[perm], dtype=dtype) for c in cols]
    return (*cols, labels[perm])


def hostile_pairs(dtype, n: int, seed: int = 0, nonfinite: bool = True):
    """n hostile pairs (with replacement from the pool; deterministic in (n, seed))."""
    lat1, lon1, lat2, lon2, labels = pair_pool(dtype, seed, nonfinite)
    idx = rng(1000 + n + seed).integers(0, labels.size, n)
    return lat1[idx], lon1[idx], lat2[idx], lon2[idx], labels[idx]


# --------------------------------------------------------------------------------------
# memory layouts
# --------------------------------------------------------------------------------------
def layout(arr: np.ndarray, kind: str) -> np.ndarray:
    """Same values as the 1-D array ``arr``, laid out in memory as ``kind``."""
    arr = np.asarray(arr)
    n = arr.size
    if kind == "contiguous":
        return np.ascontiguousarray(arr).copy()
    if kind == "strided":
        big = np.full(2 * n + 1, np.nan, dtype=arr.dtype)
        big[1::2] = arr
        return big[1::2]
    if kind == "reversed":
        return arr[::-1].copy()[::-1]
    if kind == "readonly":
        out = arr.copy()
        out.flags.writeable = False
        return out
    if kind == "unaligned":
        isz = arr.dtype.itemsize
        buf = np.zeros(n * isz + 1, dtype=np.uint8)
        out = buf[1:].view(arr.dtype)
        out[...] = arr
        return out
    if kind == "byteswapped":
        return arr.astype(arr.dtype.newbyteorder("S"))
    raise ValueError(kind)


# --------------------------------------------------------------------------------------
# inputs for the other kernels
# --------------------------------------------------------------------------------------
def points_around(center_lat, center_lon, radius_m, n: int, seed: int = 0, nonfinite: bool = True):
    """Points for within_radius: ~half near the circle (inside and out), plus random ones.

    Returned as float64; callers cast.
    """
    r = rng(seed)
    k = n // 2
    frac = np.concatenate([r.uniform(0.0, 2.0, k - k // 4),
                           1.0 + r.choice([-1, 1], k // 4) * log_uniform(r, k // 4, 1e-8, 1e-2)])
    dist = np.minimum(frac * radius_m, HALF_CIRC)
    lat, lon = geo_ref.destination_np(np.full(k, center_lat), np.full(k, center_lon),
                                      r.uniform(0, 360, k), dist)
    u_lat, u_lon = uniform_sphere(r, n - k)
    lat = np.concatenate([_clip_lat(lat), u_lat])
    lon = np.concatenate([lon, u_lon])
    if nonfinite and n >= 8:
        lat[r.integers(0, n)] = np.nan
        lon[r.integers(0, n)] = np.nan
        lon[r.integers(0, n)] = np.inf
    return lat, lon


def within_radius_cases():
    """(center_lat, center_lon, radius_m) covering small/large radii, antimeridian, poles."""
    return [
        (12.5, 45.25, 1.0),
        (-33.75, 151.0, 250.0),
        (51.5, -0.125, 10_000.0),
        (0.0, 179.875, 50_000.0),          # crosses the antimeridian
        (-10.0, -179.9375, 1_000_000.0),   # crosses it from the other side
        (89.5, 30.0, 200_000.0),           # reaches the north pole
        (-88.0, -60.0, 500_000.0),         # reaches the south pole
        (90.0, 0.0, 3_000_000.0),          # centred on the pole
        (40.0, 100.0, 19_000_000.0),       # most of the sphere
        (-5.0, 10.0, 20_000_000.0),        # just under half circumference
        (20.0, -70.0, HALF_CIRC),          # exactly half circumference: everything
        (20.0, -70.0, 1.5 * HALF_CIRC),    # more than half: everything
    ]


def destination_inputs(n: int, seed: int = 0, nonfinite: bool = False):
    """(lat, lon, bearing_deg, distance_m) float64 arrays for destination()."""
    r = rng(seed)
    lat, lon = _starts(r, n)
    bearing = r.uniform(-360.0, 720.0, n)
    k = min(n, 8)
    bearing[:k] = np.array([0.0, 90.0, 180.0, 270.0, 360.0, -90.0, 45.0, 450.0])[:k]
    dist = log_uniform(r, n, 1.0, MAX_STRICT_M) if n else np.empty(0)
    if n >= 12:
        dist[8:12] = [0.0, 1.0, HALF_CIRC * 0.999, 100.0]
    if nonfinite and n >= 8:
        lat[r.integers(0, n)] = np.nan
        lon[r.integers(0, n)] = np.nan
        bearing[r.integers(0, n)] = np.nan
        dist[r.integers(0, n)] = np.nan
    return lat, lon, bearing, dist


def bbox_cases():
    """(min_lat, max_lat, min_lon, max_lon) boxes, including ones wrapping the antimeridian."""
    return [
        (-10.0, 10.0, -20.0, 20.0),
        (40.0, 60.0, 170.0, -170.0),       # wraps
        (-90.0, 90.0, -180.0, 180.0),      # everything
        (-90.0, -60.0, 179.0, -179.0),     # wraps, touches the south pole
        (0.0, 0.0, 0.0, 0.0),              # degenerate point box
        (30.0, 31.0, 100.0, 100.5),
        (-5.0, 5.0, 120.0, 119.0),         # wraps almost all the way round
    ]


def bbox_points(n: int, seed: int = 0, nonfinite: bool = True):
    """Points for within_bbox: uniform plus exact box-edge values and the +-180 lines."""
    r = rng(seed)
    lat, lon = uniform_sphere(r, n)
    edges_lat = np.array([-90.0, 90.0, -10.0, 10.0, 40.0, 60.0, 0.0, 30.0, 31.0, -5.0, 5.0, -60.0])
    edges_lon = np.array([-180.0, 180.0, -20.0, 20.0, 170.0, -170.0, 179.0, -179.0, 100.0,
                          100.5, 120.0, 119.0, 0.0])
    k = n // 3
    lat[:k] = r.choice(edges_lat, k)
    lon[k // 2:k + k // 2] = r.choice(edges_lon, k)
    if nonfinite and n >= 8:
        lat[r.integers(0, n)] = np.nan
        lon[r.integers(0, n)] = np.nan
        lon[r.integers(0, n)] = -np.inf
    return lat, lon
