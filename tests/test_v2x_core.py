"""blockops._core v2x converters (hex IDs, WKT points, datetimes), timestamp parts and the
Arrow buffer helper, against the pure-Python references in tests/reference/v2x_core_ref.py."""
from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blockops import _config, _core
from blockops._arrow_strings import string_buffers
from reference import v2x_core_ref as ref
from reference.csv_ref import STR

NAT = ref.NAT
US_FMT = "%m/%d/%Y %I:%M:%S %p"

# ------------------------------------------------------------------ hostile strings

HEX_CASES = [
    "1f", "1F", "0x1f", "0X1F", " 0x1F ", "\t1f\t", "ABC.0", "abc.0", "1f.00", "1f.0.0", "0x",
    "0x.0", ".0", "", " ", "\t \t", "g", "-1", "+1", "1_0", "1 f", "1f .0", " 1f.0 ",
    "7fffffffffffffff", "8000000000000000", "ffffffffffffffff", "10000000000000000",
    "0" * 40 + "1", "0" * 100_000 + "ff", "f" * 100_000, "\u00a01f", "1f\u00a0", "\n1f", "1f\n",
    "\u0661", "ｆｆ", "deadBEEF", "0x0x1", "x1", "0", "00", "0.0", "0x0", "é", "POINT (1 2)",
]
WKT_CASES = [
    "POINT (1 2)", "POINT(1 2)", "point (1 2)", "PoInT ( 1\t2 )", " POINT (1 2) ", "POINT (1)",
    "POINT (1 2 3)", "POINT (1 2) x", "x POINT (1 2)", "POINT (1,2)", "POINT (1, 2)",
    "POINT 1 2", "POINT (1 2", "POINT 1 2)", "POINT", "POINT ()", "POINT EMPTY", "point empty",
    "POINTEMPTY", "POINT EMPTY x", "POINT (-83.123456789 42.987654321)", "POINT (1e3 -2.5E-2)",
    "POINT (.5 5.)", "POINT (. 5)", "POINT (1e 2)", "POINT (nan inf)", "POINT (-inf Infinity)",
    "POINT (infinit 1)", "POINT (0x1 2)", "POINT (1_0 2)", "POINT (１ 2)", "POINT (1\u00a02)",
    "POINT (1\n2)", "POINT (+1 -2)", "POINT (1e400 1e-400)",
    "POINT (1.00000000000000000000000000000000001 2)", "POINT (" + "9" * 400 + " 1)",
    "POINT (1 2)" + " " * 100_000, "LINESTRING (1 2, 3 4)", "", "  ", "\t", "POINT Z (1 2 3)",
    "POINT ((1 2))", "MULTIPOINT (1 2)", "POİNT (1 2)",
]
US_CASES = [
    "01/02/2020 01:02:03 PM", "1/2/2020 1:02:03 pm", "12/31/2019 12:00:00 AM",
    "12/31/2019 12:00:00 PM", "12/31/2019 11:59:59 PM", "07/04/2017 11:59:59 am",
    "02/29/2020 01:00:00 AM", "02/29/2021 01:00:00 AM", "13/02/2020 01:02:03 PM",
    "00/02/2020 01:02:03 PM", "01/32/2020 01:02:03 PM", "01/02/2020 13:02:03 PM",
    "01/02/2020 00:02:03 AM", "01/02/2020 01:60:03 PM", "01/02/2020 01:02:60 PM",
    "01/02/2020 01:02:03", "01/02/2020 01:02:03 XM", "01/02/2020  01:02:03\tPM",
    "01/02/2020 01:02:03 P M", "01/ 2/2020 01:02:03 PM", "01/02/20 01:02:03 PM",
    "01/02/02020 01:02:03 PM", "001/02/2020 01:02:03 PM", "01/02/2020 01:02:03 PMx",
    "01/02/2020\n01:02:03 PM", "٠١/02/2020 01:02:03 PM", "01/02/1677 01:00:00 AM",
    "09/22/1677 01:00:00 AM", "04/11/2262 01:00:00 AM", "04/12/2262 01:00:00 AM",
    "01/01/2300 01:00:00 AM", "", "  ", " 01/02/2020 01:02:03 PM\t", "xx", "01/02/2020",
]
ISO_CASES = [
    "2017-07-04", "2017-07-04T12:00", "2017-07-04T12:00:00", "2017-07-04 12:00:00",
    "2017-07-04t12:00:00", "2017-07-04T12:00:00.123456", "2017-07-04T12:00:00,5",
    "2017-07-04T12:00:00.123456789", "2017-07-04T12:00:00.1234567891", "2017-07-04T12:00:00.",
    "2017-07-04T12:00:00Z", "2017-07-04T12:00:00z", "2017-07-04T12:00:00+02:00",
    "2017-07-04T12:00:00-0530", "2017-07-04T12:00:00+05", "2017-07-04T12:00:00+05:",
    "2017-07-04T12:00+01:00", "2017-07-04T12:00:00+24:00", "2017-07-04T12:00:00+01:60",
    "2017-07-04Z", "2017-7-4", "17-07-04", "2017/07/04", "2017-07-04T", "2017-07-04T12",
    "2017-07-04T12:00:0", "2017-07-04T25:00:00", "2017-02-29", "2016-02-29",
    "1677-09-21T00:12:44", "1677-09-21T00:12:43", "1677-09-21", "2262-04-11T23:47:16",
    "2262-04-11T23:47:17", "2262-04-12", "1970-01-01T00:00:00.000000001", "", " ",
    " 2017-07-04 ", "2017-07-04\n", "２017-07-04", "2017-07-04T12:00:00 Z",
]
FORMATS = [US_FMT, "%Y-%m-%d %H:%M:%S", "%d%m%Y", "%y%m%d %H%M", "%Y-%m-%dT%H:%M:%S.%f",
           "%d %b %Y", "%H:%M %p", "%%%Y"]


def _buffers(values):
    return string_buffers(pa.array(values, type=pa.large_string()))


def _check_hex(values, vals, status):
    for i, s in enumerate(values):
        v, stt = ref.hex_ref(s)
        assert (int(vals[i]), int(status[i])) == (v, stt), (i, s[:80] if s else s)
        if stt == 0:  # the original pipeline's expression agrees wherever we accept
            assert v == int(s.strip().removesuffix(".0"), 16)


def _check_wkt(values, lon, lat, status):
    for i, s in enumerate(values):
        (x, y), stt = ref.wkt_ref(s)
        assert int(status[i]) == stt, (i, s[:80] if s else s)
        for got, want in ((lon[i], x), (lat[i], y)):
            assert (math.isnan(got) and math.isnan(want)) or got == want, (i, s[:80], got, want)


def _check_dt(values, ns, status, fmt):
    for i, s in enumerate(values):
        want = ref.datetime_ref(s, fmt)
        assert (int(ns[i]), int(status[i])) == want, (i, s, fmt)


# ------------------------------------------------------------------ converters vs references

def test_hex_hostile():
    values = HEX_CASES + [None, "1f"]
    vals, status = _core.v2x_parse_hex(*_buffers(values))
    assert vals.dtype == np.int64 and status.dtype == np.uint8
    _check_hex(values, vals, status)
    # spot checks of the contract itself, not only agreement with the reference
    assert list(status[:4]) == [0, 0, 0, 0] and list(vals[:4]) == [31, 31, 31, 31]
    assert status[values.index("")] == 1 and status[values.index(" ")] == 1
    assert status[len(values) - 2] == 1  # None
    assert status[values.index("8000000000000000")] == 2
    assert vals[values.index("7fffffffffffffff")] == 2**63 - 1


# every WKT kernel this CPU runs (BLOCKOPS_SIMD levels; a level without its own kernel runs the
# baseline one, which is then tested twice)
LEVELS = _config.supported_simd_levels()


def _wkt(values, level="scalar", n_threads=1):
    return _core.v2x_parse_wkt(*_buffers(values), n_threads=n_threads,
                               simd=_config.LEVELS.index(level))


@pytest.mark.parametrize("level", LEVELS)
def test_wkt_hostile(level):
    values = WKT_CASES + [None]
    lon, lat, status = _wkt(values, level)
    assert lon.dtype == lat.dtype == np.float64
    _check_wkt(values, lon, lat, status)
    assert (lon[0], lat[0]) == (1.0, 2.0) and (lon[1], lat[1]) == (1.0, 2.0)
    assert status[values.index("POINT EMPTY")] == 1
    assert status[values.index("POINT (1)")] == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_datetime_formats_hostile(fmt):
    values = US_CASES + ISO_CASES + [None, "01 Jan 2020", "31 DEC 1999", "01 Foo 2020",
                                     "1999-12-31 23:59:59", "010203", "%2020", "01:02 PM",
                                     "2020-01-02T03:04:05.123456789", "991231 2359", "01022020",
                                     "1122020", "3112199", "31121999"]
    ns, status = _core.v2x_parse_datetime(*_buffers(values), fmt)
    assert ns.dtype == np.int64
    _check_dt(values, ns, status, fmt)
    assert (status == 0).sum() >= 1  # every format parses something in the list
    for s, stt in zip(values, status):
        if stt == 0:
            assert ref.strptime_agrees(s, fmt), (s, fmt)


def test_datetime_us_format_values():
    values = ["01/02/2020 01:02:03 PM", "01/02/2020 12:02:03 AM", "12/31/2019 12:00:00 PM"]
    ns, status = _core.v2x_parse_datetime(*_buffers(values), US_FMT)
    assert list(status) == [0, 0, 0]
    want = pd.to_datetime(values, format=US_FMT).as_unit("ns").asi8
    np.testing.assert_array_equal(ns, want)


def test_datetime_iso_hostile():
    values = ISO_CASES + [None]
    ns, status = _core.v2x_parse_datetime(*_buffers(values))
    _check_dt(values, ns, status, None)
    ok = [s for s, stt in zip(values, status) if stt == 0 and "+05:" not in s]
    # pandas agrees on the values wherever we accept (its parser is stricter about nothing here)
    got = ns[[i for i, (s, stt) in enumerate(zip(values, status)) if stt == 0 and "+05:" not in s]]
    want = [pd.Timestamp(s).tz_convert(None).value if pd.Timestamp(s).tzinfo else
            pd.Timestamp(s).value for s in ok]
    np.testing.assert_array_equal(got, want)


def test_bad_format():
    with pytest.raises(ValueError, match="directive"):
        _core.v2x_parse_datetime(*_buffers(["x"]), "%Q")
    with pytest.raises(ValueError, match="too long"):
        _core.v2x_parse_datetime(*_buffers(["x"]), "%Y" * 100)
    with pytest.raises(ValueError):
        _core.v2x_parse_datetime(*_buffers(["x"]), "%Y\0")
    with pytest.raises(TypeError, match="fmt"):
        _core.v2x_parse_datetime(*_buffers(["x"]), b"%Y")


# ------------------------------------------------------------------ random strings (hypothesis)

_HEXCHARS = "0123456789abcdefABCDEFxX. \t-+_g\u00e9\n"
_WKTCHARS = "POINTEMPYpointempy()0123456789.eE+-, \t\u00a0naf"
_DTCHARS = "0123456789/:-T .,APMapmZ+\t"


def _chunk(chars, max_size=30):
    return st.text(alphabet=chars, max_size=max_size)


def _mutated(valid, chars):
    """Valid strings with random edits: most outcomes stay near the grammar."""
    @st.composite
    def build(draw):
        s = draw(st.sampled_from(valid))
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.integers(0, 2))
            i = draw(st.integers(0, len(s)))
            if op == 0:
                s = s[:i] + draw(st.sampled_from(chars)) + s[i:]
            elif op == 1:
                s = s[:i] + s[i + 1:]
            else:
                s = s[:i] + draw(st.sampled_from(chars)) + s[i + 1:]
        return s
    return build()


def _column(strategy):
    return st.lists(st.one_of(strategy, st.none()), max_size=40)


@given(values=_column(st.one_of(_chunk(_HEXCHARS), _mutated(["1f", "0x7fffffffffffffff",
                                                              "deadbeef.0"], _HEXCHARS),
                                st.integers(0, 2**66).map(lambda v: f"{v:x}"))))
@settings(max_examples=300, deadline=None)
def test_hex_hypothesis(values):
    vals, status = _core.v2x_parse_hex(*_buffers(values))
    _check_hex(values, vals, status)


@given(values=_column(st.one_of(
    _chunk(_WKTCHARS),
    _mutated(["POINT (1 2)", "POINT(-83.5 42.25)", "POINT EMPTY", "point ( 1e3\t.5 )"],
             _WKTCHARS),
    st.tuples(st.floats(allow_nan=False), st.floats(allow_nan=False)).map(
        lambda p: f"POINT ({p[0]!r} {p[1]!r})"))))
@settings(max_examples=300, deadline=None)
@pytest.mark.parametrize("level", LEVELS)
def test_wkt_hypothesis(level, values):
    lon, lat, status = _wkt(values, level)
    _check_wkt(values, lon, lat, status)


# ---- POINT strings aimed at each path of the WKT kernels, checked against float()

def _digits(n, first_nonzero=False):
    return st.text("0123456789", min_size=n, max_size=n).filter(
        lambda d: not first_nonzero or d[0] != "0")


@st.composite
def _coord_text(draw):
    """One coordinate: the kernels' fast shape ([-]int.frac, 1-19 digits in all), its edges
    (20+ digits, exact half-way values, leading zeros, zeros) and what only the general parser
    takes (exponents, '+', inf/nan, '.5', '5.')."""
    sign = draw(st.sampled_from(["", "", "-", "+"]))
    kind = draw(st.integers(0, 7))
    if kind == 0:  # repr of a double: the synthetic BSM files (16-17 digits)
        x = draw(st.floats(-180, 180, allow_nan=False))
        return repr(abs(x)) if sign != "-" else repr(-abs(x))
    if kind == 1:  # BSM exports: 7 decimals
        return sign + f"{draw(st.floats(0, 180)):.7f}"
    if kind == 2:  # any split of 1-21 digits
        ki = draw(st.integers(1, 20))
        kf = draw(st.integers(1, 21 - ki))
        return sign + draw(_digits(ki)) + "." + draw(_digits(kf))
    if kind == 3:  # exactly half-way between two doubles, or one unit in the last digit off:
        # (2K + 1) / 2^s with 2^52 <= K < 2^53 has 54 significant bits, the last one set
        k = draw(st.integers(2**52, 2**53 - 1))
        sh = draw(st.integers(0, 4))
        num = (2 * k + 1) * 5**sh  # = value * 10^sh
        num += draw(st.sampled_from([0, 0, 0, -1, 1]))
        txt = str(num).rjust(sh + 1, "0")
        txt = txt[:len(txt) - sh] + "." + (txt[len(txt) - sh:] or "0")
        return sign + txt + "0" * draw(st.integers(0, 2))
    if kind == 4:  # m + 0.5, 0.25, ... near 2^52 and 2^53
        m = draw(st.integers(2**52 - 4, 2**53 + 4))
        return sign + str(m) + draw(st.sampled_from([".5", ".50", ".25", ".75", ".4999",
                                                     ".5001", ".0"]))
    if kind == 5:  # the largest and smallest w, leading zeros, zeros
        return sign + draw(st.sampled_from([
            "9999999999999999999.9", "999999999999999999.9", "0.0000000000000000001",
            "0.00000000000000000001", "00000000000000000001.5", "0.0", "0.000", "000.000",
            "1.0000000000000000000", "123456789012345678.9", "1234567890123456789.0",
            "0.1", "0.2", "0.3", "1.7976931348623157", "4.9406564584124654",
            "2.2250738585072014", "9007199254740992.5", "9007199254740993.5"]))
    if kind == 6:  # 1-3 integer digits, 1-19 fraction digits (the cache's usual layouts)
        return sign + draw(_digits(draw(st.integers(1, 3)), True)) + "." + draw(
            _digits(draw(st.integers(1, 19))))
    return draw(st.sampled_from(["1e5", "-2.5E-3", "inf", "nan", ".5", "5.", "1", "-0",
                                 "1.5e+300", "1e-320"]))


@st.composite
def _point_text(draw):
    lon, lat = draw(_coord_text()), draw(_coord_text())
    if draw(st.integers(0, 3)):  # mostly the exact shape
        return f"POINT ({lon} {lat})"
    pre = draw(st.sampled_from(["POINT (", "point (", "Point(", " POINT (", "POINT\t(",
                                "POINT ( ", "POINT  ("]))
    mid = draw(st.sampled_from([" ", "  ", "\t", " \t "]))
    post = draw(st.sampled_from([")", " )", ")  ", "\t)", ")0", ")12", ") 5"]))
    return pre + lon + mid + lat + post


@given(values=st.lists(st.one_of(_point_text(), st.none(), st.just(""), st.just("POINT EMPTY")),
                       max_size=70))
@settings(max_examples=400, deadline=None)
@pytest.mark.parametrize("level", LEVELS)
def test_wkt_paths_vs_float(level, values):
    """Every parsed coordinate is float() of its text, at every level; the 4-row conversion
    groups and 16-row passes of the AVX-512 kernel see every column length up to 70."""
    lon, lat, status = _wkt(values, level)
    _check_wkt(values, lon, lat, status)


@given(rows=st.lists(_point_text(), min_size=1, max_size=12), n=st.integers(1, 40_000),
       seed=st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_wkt_levels_threads_agree(rows, n, seed):
    """A long column of repeated layouts (the layout cache's hits and misses, several chunks
    and threads): every level and thread count gives the same bits."""
    rng = np.random.default_rng(seed)
    values = [rows[i] for i in rng.integers(0, len(rows), n)]
    base = _wkt(values, "scalar", 1)
    for level in LEVELS:
        for nt in (1, 2, 3):
            got = _wkt(values, level, nt)
            for a, b in zip(base, got):
                assert a.tobytes() == b.tobytes(), (level, nt)
    _check_wkt(rows, *_wkt(rows, LEVELS[-1]))


def test_wkt_bad_level():
    with pytest.raises(ValueError, match="simd"):
        _core.v2x_parse_wkt(*_buffers(["POINT (1 2)"]), simd=3)
    with pytest.raises(ValueError, match="simd"):
        _core.v2x_parse_wkt(*_buffers(["POINT (1 2)"]), simd=-1)
    for i, name in enumerate(_config.LEVELS):
        if name not in LEVELS:
            with pytest.raises(ValueError, match="not available"):
                _core.v2x_parse_wkt(*_buffers(["POINT (1 2)"]), simd=i)


@given(values=_column(st.one_of(
    _mutated(["01/02/2020 01:02:03 PM", "12/31/1999 12:59:59 AM", "2/29/2000 9:05:00 pm"],
             _DTCHARS),
    st.datetimes(min_value=pd.Timestamp("1677-09-22").to_pydatetime(),
                 max_value=pd.Timestamp("2262-04-10").to_pydatetime()).map(
        lambda d: d.strftime(US_FMT)))))
@settings(max_examples=300, deadline=None)
def test_datetime_us_hypothesis(values):
    ns, status = _core.v2x_parse_datetime(*_buffers(values), US_FMT)
    _check_dt(values, ns, status, US_FMT)


@given(values=_column(st.one_of(
    _mutated(["2017-07-04T12:00:00.123456+02:00", "2017-07-04", "1999-12-31 23:59:59Z"],
             _DTCHARS),
    st.datetimes(min_value=pd.Timestamp("1677-09-22").to_pydatetime(),
                 max_value=pd.Timestamp("2262-04-10").to_pydatetime()).map(
        lambda d: d.isoformat()))))
@settings(max_examples=300, deadline=None)
def test_datetime_iso_hypothesis(values):
    ns, status = _core.v2x_parse_datetime(*_buffers(values))
    _check_dt(values, ns, status, None)


# ------------------------------------------------------------------ input layouts

def _hex_values(n, seed=0):
    r = np.random.default_rng(seed)
    pool = ["1f", "0xABC", "", None, "zz", "ffffffffffffffff", " 7f.0 ", "8000000000000000"]
    vals = [pool[i] for i in r.integers(0, len(pool), n)]
    return [v if v != "1f" else f"{int(r.integers(0, 2**62)):x}" for v in vals]


@pytest.mark.parametrize("start,stop", [(0, 50), (3, 40), (7, 8), (13, 13), (1, 64)])
def test_sliced_arrow_arrays(start, stop):
    values = _hex_values(64, start)
    base = pa.array(values, type=pa.large_string())
    sl = base.slice(start, stop - start)
    off, data, valid, bit_offset = string_buffers(sl)
    assert len(off) == stop - start + 1
    if sl.null_count:
        assert bit_offset == start and valid is not None
    vals, status = _core.v2x_parse_hex(off, data, valid, bit_offset)
    _check_hex(values[start:stop], vals, status)
    # and a pandas Series backed by the slice
    s = pd.Series(pd.arrays.ArrowExtensionArray(sl))
    vals2, status2 = _core.v2x_parse_hex(*string_buffers(s))
    np.testing.assert_array_equal(vals, vals2)
    np.testing.assert_array_equal(status, status2)


def test_sliced_string_type_shares_data():
    values = _hex_values(40, 1)
    sl = pa.array(values, type=pa.string()).slice(5, 30)
    off, data, valid, bit_offset = string_buffers(sl)
    assert off.dtype == np.int64 and bit_offset == 5
    vals, status = _core.v2x_parse_hex(off, data, valid, bit_offset)
    _check_hex(values[5:35], vals, status)


def test_chunked_arrays():
    values = _hex_values(100, 2)
    ch = pa.chunked_array([pa.array(values[:30], type=pa.large_string()),
                           pa.array(values[30:31], type=pa.string()).cast(pa.large_string()),
                           pa.array(values[31:], type=pa.large_string()).slice(0)])
    vals, status = _core.v2x_parse_hex(*string_buffers(ch))
    _check_hex(values, vals, status)
    one = pa.chunked_array([pa.array(values, type=pa.string()).slice(10, 20)])
    vals, status = _core.v2x_parse_hex(*string_buffers(one))
    _check_hex(values[10:30], vals, status)
    # a pandas str Series backed by several chunks (e.g. after concat), and a slice of it
    ser = pd.concat([pd.Series(values[:40], dtype=STR), pd.Series(values[40:], dtype=STR)],
                    ignore_index=True)
    vals, status = _core.v2x_parse_hex(*string_buffers(ser))
    _check_hex(values, vals, status)
    vals, status = _core.v2x_parse_hex(*string_buffers(ser.iloc[35:77]))
    _check_hex(values[35:77], vals, status)
    empty = pa.chunked_array([], type=pa.string())
    off, data, valid, bo = string_buffers(empty)
    assert len(off) == 1
    vals, status = _core.v2x_parse_hex(off, data, valid, bo)
    assert len(vals) == 0 and len(status) == 0


def _str_python_nan(v):
    try:
        dt = pd.StringDtype("python", na_value=np.nan)
    except TypeError:
        pytest.skip(f"pandas {pd.__version__} has no StringDtype(na_value=) (pandas >= 2.3)")
    return pd.Series(v, dtype=dt)


def _string_view(v):
    if not hasattr(pa, "string_view"):
        pytest.skip(f"pyarrow {pa.__version__} has no string_view (pyarrow >= 16)")
    return pa.array(v, type=pa.string_view())


@pytest.mark.parametrize("make", [
    lambda v: pd.Series(v, dtype=STR),
    lambda v: pd.Series(v, dtype=pd.StringDtype("pyarrow")),
    lambda v: pd.Series(v, dtype=pd.StringDtype("python")),
    _str_python_nan,
    lambda v: pd.Series(v, dtype=object),
    lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.string())),
    lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.large_string())),
    lambda v: pd.Series(v, dtype="category"),
    lambda v: pd.Index(v, dtype=object),
    lambda v: np.array(v, dtype=object),
    _string_view,
    lambda v: pa.array(v).dictionary_encode(),
], ids=["str", "string_pyarrow", "string_python", "str_python_nan", "object", "arrow_string",
        "arrow_large_string", "category", "index", "numpy_object", "string_view", "dictionary"])
def test_input_kinds(make):
    values = ["1f", None, "zz", "", "0xAB", "ffffffffffffffff", "é"] * 3
    s = make(values)
    off, data, valid, bo = string_buffers(s)
    vals, status = _core.v2x_parse_hex(off, data, valid, bo)
    _check_hex(values, vals, status)
    # views of someone else's buffers are read-only
    assert not off.flags.writeable or off.flags.owndata
    assert not data.flags.writeable or data.flags.owndata
    # pandas str dtype with pyarrow storage is handed over without a copy (pandas >= 2.2 keeps
    # large_string; pandas 2.1 keeps string, whose 32-bit offsets are widened: a copy)
    if isinstance(s, pd.Series) and isinstance(s.dtype, pd.StringDtype) and \
            s.dtype.storage in ("pyarrow", "pyarrow_numpy"):
        # (pandas' own Arrow data: a private attribute, read only here)
        chunks = s.array._pa_array.chunks
        assert len(chunks) == 1
        if not pa.types.is_large_string(chunks[0].type):
            assert tuple(map(int, pd.__version__.split(".")[:2])) < (2, 2), chunks[0].type
            return
        assert data.ctypes.data == chunks[0].buffers()[2].address
        assert off.ctypes.data == chunks[0].buffers()[1].address + 8 * chunks[0].offset


def test_numpy_and_nulls():
    u = np.array(["1f", "", "zz", "ABC.0"])
    vals, status = _core.v2x_parse_hex(*string_buffers(u))
    _check_hex(list(u), vals, status)
    obj = np.array(["1f", None, np.nan, pd.NA, pd.NaT, np.float32("nan"), "2"], dtype=object)
    off, data, valid, bo = string_buffers(obj)
    vals, status = _core.v2x_parse_hex(off, data, valid, bo)
    assert list(status) == [0, 1, 1, 1, 1, 1, 0] and list(vals) == [31, 0, 0, 0, 0, 0, 2]
    assert string_buffers(np.array(["a", "b"], dtype=object))[2] is None


def test_non_strings_rejected():
    with pytest.raises(TypeError, match="position 2"):
        string_buffers(np.array(["1f", None, 3, "x"], dtype=object))
    with pytest.raises(TypeError, match="position 1"):
        string_buffers(pd.Series(["1f", 2.5]))
    with pytest.raises(TypeError, match="position 0"):
        string_buffers(pd.Series([b"1f", "x"], dtype=object))
    with pytest.raises(TypeError, match="int64"):
        string_buffers(pd.Series([1, 2]))
    with pytest.raises(TypeError, match="int64"):
        string_buffers(pa.array([1, 2]))
    with pytest.raises(TypeError):
        string_buffers(np.array([b"ab"]))
    with pytest.raises(TypeError):
        string_buffers(["a", "b"])
    # all-null object columns are fine
    off, data, valid, bo = string_buffers(np.array([None, np.nan], dtype=object))
    assert list(_core.v2x_parse_hex(off, data, valid, bo)[1]) == [1, 1]


def test_readonly_noncontiguous_and_int32_offsets():
    values = ["1f", None, "2a", "zz", "POINT (1 2)"]
    off, data, valid, bo = _buffers(values)
    want = _core.v2x_parse_hex(off, data, valid, bo)
    big = np.zeros(2 * len(off), dtype=np.int64)
    big[::2] = off
    bigd = np.zeros(2 * len(data), dtype=np.uint8)
    bigd[::2] = data
    bigv = np.zeros(2 * len(valid), dtype=np.uint8)
    bigv[::2] = valid
    for args in ((big[::2], bigd[::2], bigv[::2], bo), (off.astype(np.int32), data, valid, bo),
                 (off.tolist(), data, valid, bo)):
        before = [np.array(a, copy=True) for a in args[:3]]
        got = _core.v2x_parse_hex(*args)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        for b, a in zip(before, args[:3]):
            np.testing.assert_array_equal(np.asarray(a), b)  # inputs not written
    ro = [a.copy() for a in (off, data, valid)]
    for a in ro:
        a.flags.writeable = False
    for g, w in zip(_core.v2x_parse_hex(*ro, bo), want):
        np.testing.assert_array_equal(g, w)


def test_validation_errors():
    values = ["1f", None, "2a"]
    off, data, valid, bo = _buffers(values)
    for fn in (_core.v2x_parse_hex, _core.v2x_parse_wkt, _core.v2x_parse_datetime):
        bad = off.copy()
        bad[2] = bad[1] - 1 if bad[1] > 0 else -1
        bad[1] = bad[0] + 2
        with pytest.raises(ValueError, match="offsets"):
            fn(bad, data, valid, bo)
        past = off.copy()
        past[-1] = len(data) + 1
        with pytest.raises(ValueError, match="past the end"):
            fn(past, data, valid, bo)
        neg = off.copy()
        neg[0] = -1
        with pytest.raises(ValueError, match="offsets"):
            fn(neg, data, valid, bo)
        with pytest.raises(ValueError, match="bitmap"):
            fn(off, data, valid, 6)
        with pytest.raises(ValueError, match="bit_offset"):
            fn(off, data, valid, -1)
        with pytest.raises(ValueError, match="n \\+ 1"):
            fn(np.zeros(0, np.int64), data, None, 0)
        with pytest.raises(ValueError, match="1-D"):
            fn(off.reshape(1, -1), data, None, 0)
        with pytest.raises(TypeError, match="bool"):
            fn(off, data, np.ones(3, dtype=bool), 0)
        with pytest.raises(TypeError, match="data"):
            fn(off, data.astype(np.int8), None, 0)
        with pytest.raises(TypeError, match="offsets"):
            fn(off.astype(np.float64), data, None, 0)
        with pytest.raises(ValueError, match="n_threads"):
            fn(off, data, None, 0, n_threads=0)
    # the exception is the library's own (a ValueError subclass)
    import blockops

    past = off.copy()
    past[-1] = 10**9
    with pytest.raises(blockops.BlockopsError):
        _core.v2x_parse_hex(past, data, valid, bo)
    # no bitmap: bit_offset is not used, any row count works
    vals, status = _core.v2x_parse_hex(off, data, None, 123)
    assert list(status) == [0, 1, 0]  # the null row has no bytes: blank


def test_thread_count_invariance():
    r = np.random.default_rng(5)
    n = 60_000  # above the parallel threshold
    pools = {
        "hex": ["1f", "0xABCDEF", "", None, "zz", "ffffffffffffffff.0"],
        "wkt": ["POINT (1 2)", "POINT(-83.5 42.25)", "POINT EMPTY", "bad", None, ""],
        "dt": ["01/02/2020 01:02:03 PM", "2017-07-04T12:00:00", None, "", "13/13/2020"],
    }
    for kind, pool in pools.items():
        values = [pool[i] for i in r.integers(0, len(pool), n)]
        bufs = string_buffers(pa.array(values, type=pa.large_string()).slice(3))
        if kind == "hex":
            fn = _core.v2x_parse_hex
        elif kind == "wkt":
            fn = _core.v2x_parse_wkt
        else:
            def fn(*a, **k):
                return _core.v2x_parse_datetime(*a, US_FMT, **k)
        outs = [fn(*bufs, n_threads=t) for t in (1, 2, 3)]
        for o in outs[1:]:
            for a, b in zip(outs[0], o):
                np.testing.assert_array_equal(a, b)
        assert (outs[0][-1] == 0).any() and (outs[0][-1] == 1).any() and (outs[0][-1] == 2).any()
    # spot-check the big hex column against the reference
    values = [pools["hex"][i] for i in r.integers(0, 6, 5000)]
    vals, status = _core.v2x_parse_hex(*_buffers(values), n_threads=3)
    _check_hex(values, vals, status)


# ------------------------------------------------------------------ timestamp parts

def _parts_vs_pandas(ns):
    got = _core.v2x_timestamp_parts(ns)
    assert set(got) == {"month", "day", "year", "hour", "minute", "second", "pm", "status"}
    for k in ("month", "day", "hour", "minute", "second", "pm"):
        assert got[k].dtype == np.int8, k
    assert got["year"].dtype == np.int16 and got["status"].dtype == np.uint8
    ns = np.asarray(ns)
    dt = pd.Series(ns.view("M8[ns]") if ns.dtype == np.int64 else ns).dt
    nat = ns.view(np.int64) == NAT
    np.testing.assert_array_equal(got["status"], nat.astype(np.uint8))
    for k, s in (("month", dt.month), ("day", dt.day), ("year", dt.year), ("hour", dt.hour),
                 ("minute", dt.minute), ("second", dt.second)):
        want = np.where(nat, 0, s.fillna(0).to_numpy()).astype(np.int64)
        np.testing.assert_array_equal(got[k].astype(np.int64), want, err_msg=k)
    np.testing.assert_array_equal(got["pm"], np.where(nat, 0, dt.hour.fillna(0) >= 12))
    return got


def test_timestamp_parts_random():
    r = np.random.default_rng(11)
    i64 = np.iinfo(np.int64)
    ns = np.concatenate([
        r.integers(i64.min + 1, i64.max, 20_000, dtype=np.int64, endpoint=True),
        r.integers(-10**17, 10**17, 20_000, dtype=np.int64),  # 1967..1973
        (r.integers(-106751, 106750, 5000) * 86_400_000_000_000
         + r.integers(-2, 2, 5000)).astype(np.int64),  # day boundaries, both sides
        np.array([0, -1, 1, NAT, i64.min + 1, i64.max, 86_400 * 10**9, -86_400 * 10**9,
                  -86_400 * 10**9 - 1, 951_782_400 * 10**9, -2_208_988_800 * 10**9, NAT],
                 dtype=np.int64),
    ])
    _parts_vs_pandas(ns)


def test_timestamp_parts_fixed_points():
    ns = np.array([NAT, -1, 0, 12 * 3600 * 10**9, 12 * 3600 * 10**9 - 1], dtype=np.int64)
    got = _core.v2x_timestamp_parts(ns)
    assert list(got["status"]) == [1, 0, 0, 0, 0]
    assert [got["year"][1], got["month"][1], got["day"][1], got["hour"][1], got["minute"][1],
            got["second"][1], got["pm"][1]] == [1969, 12, 31, 23, 59, 59, 1]
    assert list(got["pm"]) == [0, 1, 0, 1, 0]
    assert [got[k][0] for k in ("month", "day", "year", "hour", "minute", "second", "pm")] == \
        [0] * 7


def test_timestamp_parts_inputs():
    r = np.random.default_rng(12)
    ns = r.integers(-(2**62), 2**62, 1001, dtype=np.int64)
    ns[::7] = NAT
    want = _core.v2x_timestamp_parts(ns)
    for variant in (ns.view("M8[ns]"), ns.view("M8[ns]").astype(">M8[ns]"), ns[::-1][::-1],
                    np.repeat(ns, 2)[::2], ns.astype(">i8")):
        got = _core.v2x_timestamp_parts(variant)
        for k in want:
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    ro = ns.copy()
    ro.flags.writeable = False
    _core.v2x_timestamp_parts(ro)
    np.testing.assert_array_equal(ro, ns)  # not written
    # narrower integers are nanoseconds too
    small = np.array([0, -1, 5], dtype=np.int32)
    np.testing.assert_array_equal(_core.v2x_timestamp_parts(small)["year"], [1970, 1969, 1970])
    got2 = _core.v2x_timestamp_parts(ns.reshape(7, 143))
    assert got2["year"].shape == (7, 143)
    np.testing.assert_array_equal(got2["year"].ravel(), want["year"])
    assert len(_core.v2x_timestamp_parts(np.zeros(0, np.int64))["status"]) == 0
    for bad in (ns.view("M8[ns]").astype("M8[s]"), ns.astype(np.float64),
                ns.view(np.uint64)):
        with pytest.raises(TypeError, match="ns"):
            _core.v2x_timestamp_parts(bad)
    with pytest.raises(ValueError, match="n_threads"):
        _core.v2x_timestamp_parts(ns, n_threads=-1)


@pytest.mark.parametrize("n", [0, 1, 33, 100_000])
def test_timestamp_parts_threads(n):
    r = np.random.default_rng(n)
    ns = r.integers(-(2**63) + 1, 2**63 - 1, n, dtype=np.int64)
    outs = [_core.v2x_timestamp_parts(ns, n_threads=t) for t in (1, 2, 3)]
    for o in outs[1:]:
        for k in outs[0]:
            np.testing.assert_array_equal(outs[0][k], o[k])


def test_parsed_datetimes_feed_parts():
    values = ["01/02/2020 01:02:03 PM", None, "12/31/1969 11:59:59 PM", "junk"]
    ns, status = _core.v2x_parse_datetime(*_buffers(values), US_FMT)
    p = _core.v2x_timestamp_parts(ns)
    assert list(p["status"]) == [0, 1, 0, 1]
    assert list(p["hour"]) == [13, 0, 23, 0] and list(p["pm"]) == [1, 0, 1, 0]
    assert list(p["year"]) == [2020, 0, 1969, 0]


def test_signatures():
    for name, extra in (("v2x_parse_hex", []), ("v2x_parse_wkt", ["simd"])):
        s = inspect.signature(getattr(_core, name))
        assert list(s.parameters) == ["offsets", "data", "valid_bits", "bit_offset",
                                      "n_threads"] + extra
        assert s.parameters["n_threads"].kind is inspect.Parameter.KEYWORD_ONLY
        for k in extra:
            assert s.parameters[k].kind is inspect.Parameter.KEYWORD_ONLY
    s = inspect.signature(_core.v2x_parse_datetime)
    assert list(s.parameters) == ["offsets", "data", "valid_bits", "bit_offset", "fmt",
                                  "n_threads"]
    assert s.parameters["fmt"].default is None
    s = inspect.signature(_core.v2x_timestamp_parts)
    assert list(s.parameters) == ["ns", "n_threads"]
