"""Reference implementations of every ``blockops.geo`` function.

Two kinds live here:

* ``*_np``: plain NumPy float64 expressions, the way a user would write them.  Fast, used
  where the test tolerance is far above float64 rounding (masks, boxes, local xy).
* ``*_mp``: mpmath at ``DPS`` decimal digits on the *exact* float64 value of every input
  (``mpmath.mpf(float)`` is exact), looped in Python.  These are the "exact arithmetic"
  answers the accuracy requirements of issue 2 are stated against.  Keep them to a few
  thousand points per test: one point costs some tens of microseconds.

float32 inputs are widened to float64 first (exact), so ``haversine_mp(f32 arrays)`` is the
exact distance of the float32 inputs, as issue 2 asks.

The great-circle form is ``2 R atan2(sqrt(h), sqrt(1 - h))``, which stays well conditioned at
antipodal points (``asin(sqrt(h))`` loses half the digits there, even at 40 digits it does not
matter, but the atan2 form costs nothing).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np

EARTH_RADIUS_M = 6371008.8
DPS = 40
HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M

_ctx = mpmath.MPContext()
_ctx.dps = DPS
_mpf = _ctx.mpf
_PI = _ctx.pi
_D2R = _PI / 180
_R2D = 180 / _PI


def _f64(x):
    """Any array-like/scalar -> float64 ndarray (exact widening for float32/int)."""
    return np.asarray(x, dtype=np.float64)


def _bcast(*args):
    arrs = np.broadcast_arrays(*[_f64(a) for a in args])
    return [np.ascontiguousarray(a) for a in arrs]


def _finite(*vals) -> bool:
    return all(math.isfinite(v) for v in vals)


# --------------------------------------------------------------------------------------
# haversine
# --------------------------------------------------------------------------------------
def _hav_term_mp(lat1, lon1, lat2, lon2):
    """h = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2) in mp, inputs float degrees."""
    p1 = _mpf(lat1) * _D2R
    p2 = _mpf(lat2) * _D2R
    dlat = (_mpf(lat2) - _mpf(lat1)) * _D2R
    dlon = (_mpf(lon2) - _mpf(lon1)) * _D2R
    h = _ctx.sin(dlat / 2) ** 2 + _ctx.cos(p1) * _ctx.cos(p2) * _ctx.sin(dlon / 2) ** 2
    if h < 0:
        h = _mpf(0)
    if h > 1:
        h = _mpf(1)
    return h


def central_angle_mp(lat1, lon1, lat2, lon2):
    """Central angle (mp radians) between two points given as Python floats in degrees."""
    h = _hav_term_mp(lat1, lon1, lat2, lon2)
    return 2 * _ctx.atan2(_ctx.sqrt(h), _ctx.sqrt(1 - h))


def haversine_mp(lat1, lon1, lat2, lon2, radius_m=EARTH_RADIUS_M):
    """Exact great-circle distance (metres, rounded to float64) of the given float inputs.

    Non-finite input -> NaN.  Latitudes are not validated.
    """
    a, b, c, d, r = _bcast(lat1, lon1, lat2, lon2, radius_m)
    out = np.empty(a.shape, dtype=np.float64)
    fa, fb, fc, fd, fr, fo = a.ravel(), b.ravel(), c.ravel(), d.ravel(), r.ravel(), out.ravel()
    for i in range(fo.size):
        v = (float(fa[i]), float(fb[i]), float(fc[i]), float(fd[i]), float(fr[i]))
        if not _finite(*v):
            fo[i] = np.nan
            continue
        fo[i] = float(_mpf(v[4]) * central_angle_mp(*v[:4]))
    return out


def haversine_np(lat1, lon1, lat2, lon2, radius_m=EARTH_RADIUS_M):
    """The textbook NumPy expression (float64)."""
    lat1, lon1, lat2, lon2 = (np.radians(_f64(x)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    h = np.clip(h, 0.0, 1.0)
    return 2 * _f64(radius_m) * np.arctan2(np.sqrt(h), np.sqrt(1 - h))


# --------------------------------------------------------------------------------------
# within_radius / radius_bbox / within_bbox
# --------------------------------------------------------------------------------------
def within_radius_mp(lat, lon, center_lat, center_lon, radius_m, earth_radius_m=EARTH_RADIUS_M):
    """(mask, exact_distance): mask = exact distance <= radius (False for NaN)."""
    la, lo, cla, clo, r = _bcast(lat, lon, center_lat, center_lon, radius_m)
    dist = haversine_mp(la, lo, cla, clo, earth_radius_m)
    with np.errstate(invalid="ignore"):
        mask = dist <= r
    return mask, dist


def within_radius_np(lat, lon, center_lat, center_lon, radius_m, earth_radius_m=EARTH_RADIUS_M):
    """float64 NumPy version: haversine_np(...) <= radius (False for NaN)."""
    with np.errstate(invalid="ignore"):
        return haversine_np(lat, lon, center_lat, center_lon, earth_radius_m) <= _f64(radius_m)


def boundary_band(dist, radius_m, rel=1e-9):
    """Points whose exact distance is within rel*radius of the boundary (answer free there)."""
    r = np.broadcast_to(_f64(radius_m), np.shape(dist))
    with np.errstate(invalid="ignore"):
        return np.abs(dist - r) <= rel * np.abs(r)


def radius_bbox_mp(center_lat, center_lon, radius_m, earth_radius_m=EARTH_RADIUS_M):
    """The tight box (min_lat, max_lat, min_lon, max_lon) as float64, computed in mp.

    Longitude half-width asin(sin(r/R) / cos(lat)); all longitudes when the circle reaches a
    pole (or covers the sphere); min_lon > max_lon when it crosses the antimeridian.
    """
    clat, clon = _mpf(float(center_lat)), _mpf(float(center_lon))
    delta = _mpf(float(radius_m)) / _mpf(float(earth_radius_m))  # radians
    if delta >= _PI:
        return (-90.0, 90.0, -180.0, 180.0)
    ddeg = delta * _R2D
    min_lat = clat - ddeg
    max_lat = clat + ddeg
    if max_lat >= 90 or min_lat <= -90:
        return (float(max(min_lat, _mpf(-90))), float(min(max_lat, _mpf(90))), -180.0, 180.0)
    half = _ctx.asin(_ctx.sin(delta) / _ctx.cos(clat * _D2R)) * _R2D
    min_lon = clon - half
    max_lon = clon + half
    if min_lon < -180:
        min_lon += 360
    if max_lon > 180:
        max_lon -= 360
    return (float(min_lat), float(max_lat), float(min_lon), float(max_lon))


def radius_bbox_np(center_lat, center_lon, radius_m, earth_radius_m=EARTH_RADIUS_M):
    """The same box as radius_bbox_mp in plain float64 math (no padding)."""
    delta = float(radius_m) / float(earth_radius_m)
    if delta >= math.pi:
        return (-90.0, 90.0, -180.0, 180.0)
    ddeg = math.degrees(delta)
    min_lat, max_lat = center_lat - ddeg, center_lat + ddeg
    if max_lat >= 90.0 or min_lat <= -90.0:
        return (max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)
    half = math.degrees(math.asin(min(1.0, math.sin(delta) / math.cos(math.radians(center_lat)))))
    min_lon, max_lon = center_lon - half, center_lon + half
    if min_lon < -180.0:
        min_lon += 360.0
    if max_lon > 180.0:
        max_lon -= 360.0
    return (float(min_lat), float(max_lat), float(min_lon), float(max_lon))


def within_bbox_np(lat, lon, min_lat, max_lat, min_lon, max_lon):
    """Closed box; wraps across the antimeridian when min_lon > max_lon.

    Non-finite lat/lon -> False (a longitude of +-inf is no place).  Longitudes outside
    [-180, 180] are reduced into [-180, 180) first (so 0..360 data work).
    """
    lat, lon = _f64(lat), _f64(lon)
    lon = np.where((lon >= -180.0) & (lon <= 180.0), lon, wrap_lon_np(lon))
    with np.errstate(invalid="ignore"):
        lat_ok = (lat >= min_lat) & (lat <= max_lat)
        if min_lon <= max_lon:
            lon_ok = (lon >= min_lon) & (lon <= max_lon)
        else:
            lon_ok = (lon >= min_lon) | (lon <= max_lon)
    return lat_ok & lon_ok & np.isfinite(lat) & np.isfinite(lon)


# --------------------------------------------------------------------------------------
# to_local_xy
# --------------------------------------------------------------------------------------
def wrap_lon_np(dlon):
    """Wrap degrees to [-180, 180) without touching values already in range."""
    dlon = _f64(dlon)
    with np.errstate(invalid="ignore"):
        inside = (dlon >= -180.0) & (dlon < 180.0)
        wrapped = np.mod(dlon + 180.0, 360.0) - 180.0
        # np.mod can round up to exactly 360 for tiny negative inputs
        wrapped = np.where(wrapped >= 180.0, wrapped - 360.0, wrapped)
    return np.where(inside, dlon, wrapped)


def to_local_xy_np(lat, lon, origin_lat, origin_lon, radius_m=EARTH_RADIUS_M):
    """x = R * dlon * cos(origin_lat), y = R * dlat (radians), dlon wrapped to [-180, 180)."""
    lat, lon, olat, olon, r = _bcast(lat, lon, origin_lat, origin_lon, radius_m)
    dlon = wrap_lon_np(lon - olon)
    x = r * np.radians(dlon) * np.cos(np.radians(olat))
    y = r * np.radians(lat - olat)
    return x, y


# --------------------------------------------------------------------------------------
# destination / bearing
# --------------------------------------------------------------------------------------
def _norm_lon_mp(lon):
    lon = _ctx.fmod(lon + 180, 360)
    if lon < 0:
        lon += 360
    return lon - 180


def destination_mp(lat, lon, bearing_deg, distance_m, radius_m=EARTH_RADIUS_M):
    """(lat2, lon2) float64 arrays computed in mp; lon2 in [-180, 180); NaN in -> NaN out."""
    la, lo, be, di, r = _bcast(lat, lon, bearing_deg, distance_m, radius_m)
    lat2 = np.empty(la.shape)
    lon2 = np.empty(la.shape)
    fl, fo = lat2.ravel(), lon2.ravel()
    for i, v in enumerate(zip(la.ravel(), lo.ravel(), be.ravel(), di.ravel(), r.ravel())):
        v = tuple(float(x) for x in v)
        if not _finite(*v):
            fl[i] = fo[i] = np.nan
            continue
        p1 = _mpf(v[0]) * _D2R
        l1 = _mpf(v[1]) * _D2R
        th = _mpf(v[2]) * _D2R
        de = _mpf(v[3]) / _mpf(v[4])
        s2 = _ctx.sin(p1) * _ctx.cos(de) + _ctx.cos(p1) * _ctx.sin(de) * _ctx.cos(th)
        s2 = max(min(s2, _mpf(1)), _mpf(-1))
        p2 = _ctx.asin(s2)
        l2 = l1 + _ctx.atan2(_ctx.sin(th) * _ctx.sin(de) * _ctx.cos(p1),
                             _ctx.cos(de) - _ctx.sin(p1) * s2)
        fl[i] = float(p2 * _R2D)
        lon_deg = float(_norm_lon_mp(l2 * _R2D))
        fo[i] = -180.0 if lon_deg >= 180.0 else lon_deg
    return lat2, lon2


def destination_np(lat, lon, bearing_deg, distance_m, radius_m=EARTH_RADIUS_M):
    """NumPy float64 destination (used to *generate* inputs, not as the accuracy reference)."""
    la, lo, be, di, r = _bcast(lat, lon, bearing_deg, distance_m, radius_m)
    p1, l1, th = np.radians(la), np.radians(lo), np.radians(be)
    de = di / r
    s2 = np.clip(np.sin(p1) * np.cos(de) + np.cos(p1) * np.sin(de) * np.cos(th), -1.0, 1.0)
    p2 = np.arcsin(s2)
    l2 = l1 + np.arctan2(np.sin(th) * np.sin(de) * np.cos(p1), np.cos(de) - np.sin(p1) * s2)
    return np.degrees(p2), wrap_lon_np(np.degrees(l2))


def initial_bearing_mp(lat1, lon1, lat2, lon2):
    """Initial bearing (degrees in [0, 360)) from point 1 to point 2, computed in mp."""
    a, b, c, d = _bcast(lat1, lon1, lat2, lon2)
    out = np.empty(a.shape)
    fo = out.ravel()
    for i, v in enumerate(zip(a.ravel(), b.ravel(), c.ravel(), d.ravel())):
        v = tuple(float(x) for x in v)
        if not _finite(*v):
            fo[i] = np.nan
            continue
        p1, p2 = _mpf(v[0]) * _D2R, _mpf(v[2]) * _D2R
        dl = (_mpf(v[3]) - _mpf(v[1])) * _D2R
        th = _ctx.atan2(_ctx.sin(dl) * _ctx.cos(p2),
                        _ctx.cos(p1) * _ctx.sin(p2) - _ctx.sin(p1) * _ctx.cos(p2) * _ctx.cos(dl))
        deg = _ctx.fmod(th * _R2D + 360, 360)
        fo[i] = float(deg)
    return out


def angle_diff_deg(a, b):
    """|a - b| for angles in degrees, folded to [0, 180]."""
    d = np.abs(np.mod(_f64(a) - _f64(b), 360.0))
    return np.minimum(d, 360.0 - d)
