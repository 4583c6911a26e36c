"""Geographic kernels: great-circle distance, radius and box filters, local projection and
destination points, in C with SIMD (scalar / AVX2 / AVX-512 chosen at run time).

Every geographic argument is keyword-only, in degrees and metres: libraries disagree on
(lat, lon) versus (lon, lat), so blockops never relies on position.

Inputs may be NumPy arrays, pandas Series or scalars. Arrays broadcast against each other
like NumPy arrays; a pandas Series result keeps the input index (Series arguments must share
one index: blockops matches by position and does not align). float32 inputs give float32
results; anything else (ints, float64, mixes) is computed in float64. Inputs are never written
to, so read-only arrays (pandas 3, Ray) work, and strided views are copied once.

NaN gives NaN distances and ``False`` in masks. Longitudes may have any finite magnitude: the
angle is the input's exact value reduced modulo 360 (exactly, so 0..360 data, unwrapped tracks
and even 1e17 degrees give the distance of the angle the value names); an infinite longitude
gives NaN (``False`` in masks). A latitude outside [-90, 90] raises
:class:`blockops.BlockopsDomainError` (a ``ValueError``) naming the first offending index and
value; ``validate=False`` skips the check and computes whatever the formula gives.

The sphere: every function that needs one takes ``earth_radius_m=`` (default
:data:`EARTH_RADIUS_M`, the IUGG mean radius 6,371,008.8 m). The pipelines blockops replaces
used 6,371,000 m; pass ``earth_radius_m=6_371_000`` to reproduce their distances (1.4 ppm
shorter: a 4.7 km circle moves by 6.5 mm, and rows that close to it change side). The radius
reaches the C kernels as an argument of each call, the same at every SIMD level.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import _config, _core

__all__ = [
    "EARTH_RADIUS_M",
    "destination",
    "haversine",
    "radius_bbox",
    "to_local_xy",
    "within_bbox",
    "within_radius",
]

#: Mean Earth radius (IUGG R1) in metres, the default sphere of every function here.
EARTH_RADIUS_M = 6371008.8


def _earth_radius(func: str, earth_radius_m, radius_m):
    """``earth_radius_m``, or the sphere's radius under its old name ``radius_m`` (haversine,
    to_local_xy and destination called it that; within_radius's ``radius_m`` is the circle)."""
    if radius_m is not None:
        if earth_radius_m is not EARTH_RADIUS_M and earth_radius_m != radius_m:
            raise TypeError(f"{func}: pass the sphere's radius as earth_radius_m only "
                            "(radius_m is its old name)")
        warnings.warn(f"{func}: radius_m= is deprecated, use earth_radius_m=",
                      DeprecationWarning, stacklevel=3)
        earth_radius_m = radius_m
    return _check_radius(func, "earth_radius_m", earth_radius_m)


class _Prepared:
    """Inputs normalized for the C core: same dtype, flat, each of length n or 1."""

    __slots__ = ("arrays", "shape", "dtype", "index", "name_of_index")

    def __init__(self, arrays, shape, dtype, index):
        self.arrays = arrays
        self.shape = shape
        self.dtype = dtype
        self.index = index

    def wrap(self, result: np.ndarray):
        """Reshape a flat result and re-attach a pandas index when the input had one."""
        if self.index is not None:
            import pandas as pd

            return pd.Series(result, index=self.index, copy=False)
        if self.shape == ():
            return result.reshape(()).dtype.type(result[0])
        return result.reshape(self.shape)


def _is_series(x) -> bool:
    return type(x).__name__ == "Series" and hasattr(x, "index") and hasattr(x, "to_numpy")


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _prepare(func: str, named: list[tuple[str, Any]], *, allow_bcast=True) -> _Prepared:
    # Fast path, the common call: contiguous 1-D float arrays of one dtype and length. The
    # general path below costs ~12 us per call (dtype checks, broadcasting), which was 1.6
    # ns/point on 8,192-point calls of a ~2.7 ns/point kernel.
    first = named[0][1]
    if type(first) is np.ndarray and first.ndim == 1 and first.dtype in _FLOATS:
        dt, n = first.dtype, first.shape[0]
        if all(type(x) is np.ndarray and x.dtype == dt and x.ndim == 1 and x.shape[0] == n
               and x.flags.c_contiguous for _, x in named):
            return _Prepared([x for _, x in named], (n,), dt.type, None)
    return _prepare_general(func, named, allow_bcast=allow_bcast)


def _prepare_general(func: str, named: list[tuple[str, Any]], *, allow_bcast=True) -> _Prepared:
    index = None
    index_owner = None
    values = []
    for name, x in named:
        if _is_series(x):
            if index is None:
                index, index_owner = x.index, name
            elif not (x.index is index or x.index.equals(index)):
                raise ValueError(
                    f"{func}: {name} and {index_owner} are Series with different indexes; "
                    "blockops matches by position, align them first"
                )
            x = x.to_numpy()
        elif type(x).__name__ in ("DataFrame", "Index"):
            raise TypeError(f"{func}: {name} must be an array, Series or scalar, not {type(x).__name__}")
        a = np.asarray(x)
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise TypeError(f"{func}: {name} must be numeric, got dtype {a.dtype}")
        if np.iscomplexobj(a):
            raise TypeError(f"{func}: {name} must be real, got dtype {a.dtype}")
        values.append((name, a, isinstance(x, (int, float)) and not isinstance(x, np.generic)))

    # float32 when every array-valued (non-Python-scalar) input is float32
    typed = [a for _, a, is_py in values if not is_py]
    dtype = (np.float32 if typed and all(a.dtype.kind == "f" and a.dtype.itemsize == 4 for a in typed)
             else np.float64)  # itemsize, not ==, so byte-swapped float32 counts too

    shapes = [(name, a.shape) for name, a, _ in values]
    try:
        shape = np.broadcast_shapes(*(s for _, s in shapes))
    except ValueError:
        shape = None
    if shape is None or (not allow_bcast and any(a.shape != shapes[0][1] for _, a, _ in values)):
        # name the first pair that disagrees
        for i, (n1, s1) in enumerate(shapes):
            for n2, s2 in shapes[i + 1:]:
                try:
                    np.broadcast_shapes(s1, s2)
                    ok = allow_bcast or s1 == s2
                except ValueError:
                    ok = False
                if not ok:
                    def desc(s):
                        return f"length {s[0]}" if len(s) == 1 else f"shape {s}"
                    raise ValueError(f"{func}: {n1} has {desc(s1)} but {n2} has {desc(s2)}")
        raise ValueError(f"{func}: arguments do not broadcast: {shapes}")  # pragma: no cover
    if index is not None and shape != (len(index),):
        raise ValueError(f"{func}: arguments broadcast to shape {shape}, not the Series length {len(index)}")

    arrays = []
    for name, a, _ in values:
        if a.size == 1 and allow_bcast:
            arrays.append(np.ascontiguousarray(a.reshape(1), dtype=dtype))
        elif a.shape == shape:
            arrays.append(np.ascontiguousarray(a.reshape(-1), dtype=dtype))
        else:
            arrays.append(np.ascontiguousarray(np.broadcast_to(a, shape).reshape(-1), dtype=dtype))
    return _Prepared(arrays, shape, dtype, index)


def _full(p: _Prepared, a: np.ndarray) -> np.ndarray:
    n = math.prod(p.shape)
    return a if a.size == n else np.broadcast_to(a, (n,))


def haversine(*, lat1, lon1, lat2, lon2, earth_radius_m: float = EARTH_RADIUS_M, out=None,
              n_threads: int | None = None, validate: bool = True, radius_m=None):
    """Great-circle distance between (lat1, lon1) and (lat2, lon2), in metres.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : array_like, Series or scalar
        Coordinates in degrees; broadcast against each other.
    earth_radius_m : float
        Sphere radius in metres (default: mean Earth radius, 6371008.8 m; the original
        pipelines used 6371000). float32 inputs use it rounded to float32. ``radius_m`` is its
        deprecated old name.
    out : ndarray, optional
        Writeable C-contiguous array of the result's shape and dtype to write into.
    n_threads : int, optional
        Threads to use (default :func:`blockops.get_num_threads`). Results are identical for
        every thread count and SIMD level... up to the last bit between SIMD levels, which may
        differ by an ulp because the vector levels use fused multiply-add.
    validate : bool
        Check latitudes lie in [-90, 90].

    Returns
    -------
    ndarray, Series or scalar
        float32 when all array inputs are float32, else float64. Accuracy: float64 within
        1e-12 relative for 1 m .. 19,900 km (1e-7 up to antipodal points); float32 within
        2e-6 relative from 100 m.
    """
    p = _prepare("haversine", [("lat1", lat1), ("lon1", lon1), ("lat2", lat2), ("lon2", lon2)])
    er = _earth_radius("haversine", earth_radius_m, radius_m)
    flat_out = None
    if out is not None:
        if not isinstance(out, np.ndarray) or out.shape != p.shape or out.dtype != p.dtype:
            raise ValueError(
                f"haversine: out must be an ndarray of shape {p.shape} and dtype "
                f"{np.dtype(p.dtype).name}"
            )
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("haversine: out must be C-contiguous and writeable")
        flat_out = out.reshape(-1)
    res = _core.haversine(*p.arrays, er, flat_out, _config.simd(),
                          _config.resolve_threads(n_threads), bool(validate))
    if out is not None:
        return out
    return p.wrap(res)


def _check_radius(func, name, r, allow_zero=False):
    try:
        r = float(r)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a number, got {r!r}") from None
    if not math.isfinite(r) or r < 0 or (r == 0 and not allow_zero):
        raise ValueError(f"{func}: {name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {r!r}")
    return r


def _scalar(func, name, v):
    if _is_series(v) or (isinstance(v, np.ndarray) and v.size != 1):
        raise TypeError(f"{func}: {name} must be a scalar")
    try:
        v = float(np.asarray(v).reshape(()))
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a number, got {v!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{func}: {name} must be finite, got {v!r}")
    return v


def within_radius(*, lat, lon, center_lat, center_lon, radius_m,
                  earth_radius_m: float = EARTH_RADIUS_M, n_threads: int | None = None,
                  validate: bool = True):
    """Mask of points whose great-circle distance to the centre is at most ``radius_m``.

    Equal to ``haversine(...) <= radius_m`` evaluated in exact arithmetic, except possibly for
    points within 1e-9 x radius of the boundary. A conservative bounding box
    (:func:`radius_bbox`) rejects far points before any trigonometry, and the test compares the
    haversine term with sin^2(r / 2R) instead of taking asin/sqrt per point. float32 inputs are
    widened to float64 internally for the boundary decision. ``earth_radius_m`` is R (default
    6371008.8 m; 6371000 reproduces the original pipelines' selection).

    Returns
    -------
    ndarray of bool, or Series of bool (index kept). NaN coordinates give False.
    """
    p = _prepare("within_radius", [("lat", lat), ("lon", lon)])
    clat = _scalar("within_radius", "center_lat", center_lat)
    clon = _scalar("within_radius", "center_lon", center_lon)
    r = _check_radius("within_radius", "radius_m", radius_m, allow_zero=True)
    er = _check_radius("within_radius", "earth_radius_m", earth_radius_m)
    la, lo = _full(p, p.arrays[0]), _full(p, p.arrays[1])
    res = _core.within_radius(np.ascontiguousarray(la), np.ascontiguousarray(lo), clat, clon, r,
                              er, _config.simd(), _config.resolve_threads(n_threads),
                              bool(validate))
    return p.wrap(res)


def radius_bbox(*, center_lat, center_lon, radius_m, earth_radius_m: float = EARTH_RADIUS_M):
    """Bounding box ``(min_lat, max_lat, min_lon, max_lon)`` of a circle on the sphere.

    Contains every point within ``radius_m`` of the centre (it is enlarged by 1e-9 relative so
    rounding never excludes one). The longitude half-width is asin(sin(r/R) / cos(lat)); when the
    circle reaches a pole the box spans all longitudes (-180, 180); when it crosses the
    antimeridian ``min_lon > max_lon``. Use it with :func:`within_bbox`, or as a Parquet / SQL
    predicate.
    """
    clat = _scalar("radius_bbox", "center_lat", center_lat)
    clon = _scalar("radius_bbox", "center_lon", center_lon)
    r = _check_radius("radius_bbox", "radius_m", radius_m, allow_zero=True)
    er = _check_radius("radius_bbox", "earth_radius_m", earth_radius_m)
    return _core.radius_bbox(clat, clon, r, er)


def within_bbox(*, lat, lon, min_lat, max_lat, min_lon, max_lon, n_threads: int | None = None):
    """Mask of points inside a latitude/longitude box (bounds inclusive).

    When ``min_lon > max_lon`` the box wraps across the antimeridian (lon >= min_lon or
    lon <= max_lon). Longitudes are reduced to [-180, 180] before comparing, so 0..360 data work.
    """
    p = _prepare("within_bbox", [("lat", lat), ("lon", lon)])
    b = [_scalar("within_bbox", n, v) for n, v in
         (("min_lat", min_lat), ("max_lat", max_lat), ("min_lon", min_lon), ("max_lon", max_lon))]
    if b[0] > b[1]:
        raise ValueError(f"within_bbox: min_lat ({b[0]}) > max_lat ({b[1]})")
    la, lo = _full(p, p.arrays[0]), _full(p, p.arrays[1])
    res = _core.within_bbox(np.ascontiguousarray(la), np.ascontiguousarray(lo), *b,
                            _config.simd(), _config.resolve_threads(n_threads))
    return p.wrap(res)


def to_local_xy(*, lat, lon, origin_lat, origin_lon, earth_radius_m: float = EARTH_RADIUS_M,
                n_threads: int | None = None, validate: bool = True, radius_m=None):
    """Signed equirectangular metres about an origin: ``(x_m, y_m)``.

    ``x = R * dlon * cos(origin_lat)`` (east positive), ``y = R * dlat`` (north positive), with
    angles in radians and ``dlon`` wrapped to [-180, 180) degrees so points across the
    antimeridian stay close. Good to ~0.1% within tens of km of the origin. R is
    ``earth_radius_m`` (default 6371008.8 m; the original's metric pipeline used 6371000;
    ``radius_m`` is its deprecated old name).
    """
    p = _prepare("to_local_xy", [("lat", lat), ("lon", lon)])
    olat = _scalar("to_local_xy", "origin_lat", origin_lat)
    olon = _scalar("to_local_xy", "origin_lon", origin_lon)
    r = _earth_radius("to_local_xy", earth_radius_m, radius_m)
    la, lo = _full(p, p.arrays[0]), _full(p, p.arrays[1])
    x, y = _core.to_local_xy(np.ascontiguousarray(la), np.ascontiguousarray(lo), olat, olon, r,
                             _config.resolve_threads(n_threads), bool(validate))
    return p.wrap(x), p.wrap(y)


def destination(*, lat, lon, bearing_deg, distance_m, earth_radius_m: float = EARTH_RADIUS_M,
                n_threads: int | None = None, validate: bool = True, radius_m=None):
    """Point reached from (lat, lon) going ``distance_m`` along initial bearing ``bearing_deg``
    (degrees clockwise from north) on the sphere: ``(lat2, lon2)``, lon2 in [-180, 180).

    All four arguments broadcast, so each row may have its own bearing and distance. The
    sphere's radius is ``earth_radius_m`` (``radius_m`` is its deprecated old name).
    """
    p = _prepare("destination", [("lat", lat), ("lon", lon), ("bearing_deg", bearing_deg),
                                 ("distance_m", distance_m)])
    r = _earth_radius("destination", earth_radius_m, radius_m)
    a, b = _core.destination(*p.arrays, r, _config.resolve_threads(n_threads), bool(validate))
    return p.wrap(a), p.wrap(b)
