"""Pure-Python references of the v2x string converters and timestamp parts.

Each ``*_ref(s)`` takes one value (``str`` or ``None`` for a null) and returns
``(value, status)`` with the contract of csrc/include/blockops/bo_v2x.h:
status 0 ok, 1 null (None, or blank after stripping spaces/tabs, or ``POINT EMPTY``),
2 unparseable / out of range; the value is 0 / NaN / NaT(INT64_MIN) when status != 0.

They are written from the documented grammar with regular expressions and Python's own number
and calendar code (``int(..., 16)``, ``float()``, ``datetime``), not from the C code:

* hex: the pipeline's ``int(s.removesuffix('.0'), 16)`` restricted to what the CSV reader
  accepts (only spaces/tabs around, an optional ``0x``, ASCII hex digits: ``int()`` would also
  take ``_``, signs and Unicode whitespace), and at most INT64_MAX.
* WKT: ``POINT (lon lat)`` by regex, numbers with ``float()`` (correctly rounded, like the C
  Eisel-Lemire parser).
* datetimes with a format: the format compiled to a regex the way the C parser reads it
  (1-2 digit fields taken greedily, 4-digit %Y, only spaces/tabs as whitespace, case-sensitive
  literals, ASCII digits), then ``datetime``; :func:`strptime_agrees` checks it against
  ``datetime.strptime`` (which is more lenient: space-padded days, any whitespace, Unicode
  digits, case-insensitive literals).
* ISO 8601: the accepted subset (see ``ISO_RE``) by regex, then ``datetime``.
* The ns range is the C parsers': whole seconds within +-9223372035 of the epoch.

Nothing here imports blockops.
"""
from __future__ import annotations

import datetime as _dt
import math
import re

import numpy as np

NAT = np.iinfo(np.int64).min
INT64_MAX = 2**63 - 1
_EPOCH = _dt.datetime(1970, 1, 1)
_MAX_SECS = 9223372035  # |whole seconds| the C datetime parsers accept (datetime64[ns] range)


def _blank(s):
    return s is None or s.strip(" \t") == ""


# ------------------------------------------------------------------ hex

_HEX_RE = re.compile(r"[0-9a-fA-F]+")


def hex_ref(s):
    if _blank(s):
        return 0, 1
    t = s.strip(" \t").removesuffix(".0")
    if t[:2] in ("0x", "0X"):
        t = t[2:]
    if not _HEX_RE.fullmatch(t):
        return 0, 2
    v = int(t, 16)
    if v > INT64_MAX:
        return 0, 2
    return v, 0


# ------------------------------------------------------------------ WKT

_NUM = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)"
_WKT_RE = re.compile(
    rf"POINT[ \t]*(?:(?P<empty>EMPTY)|\([ \t]*(?P<lon>{_NUM})[ \t]+(?P<lat>{_NUM})[ \t]*\))",
    re.IGNORECASE | re.ASCII)


def wkt_ref(s):
    if _blank(s):
        return (math.nan, math.nan), 1
    m = _WKT_RE.fullmatch(s.strip(" \t"))
    if not m:
        return (math.nan, math.nan), 2
    if m.group("empty"):
        return (math.nan, math.nan), 1
    return (float(m.group("lon")), float(m.group("lat"))), 0


# ------------------------------------------------------------------ datetimes

def _to_ns(y, mo, d, h=0, mi=0, sec=0, frac_ns=0, offset_s=0):
    """ns since the epoch with the C range rule, or None."""
    try:
        t = _dt.datetime(y, mo, d, h, mi, sec)
    except ValueError:
        return None, -1
    if not 1677 <= y <= 2262:
        return None, -2
    delta = t - _EPOCH
    secs = delta.days * 86400 + delta.seconds - offset_s
    if not -_MAX_SECS <= secs <= _MAX_SECS:
        return None, -2
    return secs * 10**9 + frac_ns, 0


def _frac_ns(digits):
    return int((digits + "000000000")[:9])


def _atomic(pat, name):
    # an atomic group (no backtracking into it), as the C parser reads greedily: Python 3.10
    # has no possessive quantifiers, so the lookahead-and-backreference idiom
    return rf"(?=(?P<{name}>{pat}))(?P={name})"


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def compile_format(fmt):
    """A regex reading a strftime-style format the way bo_parse_datetime_fmt does."""
    out, i, k = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%":
            d = fmt[i + 1]
            i += 2
            k += 1
            if d == "%":
                out.append("%")
            elif d == "Y":
                out.append(rf"(?P<Y{k}>[0-9]{{4}})")
            elif d == "y":
                out.append(rf"(?P<y{k}>[0-9]{{2}})")
            elif d in "mdHIMS":
                out.append(_atomic(r"[0-9]{1,2}", f"{d}{k}"))
            elif d == "f":
                out.append(_atomic(r"[0-9]+", f"f{k}"))
            elif d == "p":
                out.append(rf"(?P<p{k}>[AaPp][Mm])")
            elif d == "b":
                out.append(rf"(?P<b{k}>[A-Za-z]{{3}})")
            else:
                raise ValueError(f"unsupported directive %{d}")
        elif c in " \t":
            while i < len(fmt) and fmt[i] in " \t":
                i += 1
            out.append(r"[ \t]+")
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out), re.ASCII)


def datetime_fmt_ref(s, fmt, _cache={}):
    if _blank(s):
        return NAT, 1
    rx = _cache.get(fmt)
    if rx is None:
        rx = _cache[fmt] = compile_format(fmt)
    m = rx.fullmatch(s.strip(" \t"))
    if not m:
        return NAT, 2
    v = {"Y": 1900, "m": 1, "d": 1, "H": 0, "M": 0, "S": 0}
    frac, hour12, pm = 0, None, None
    for key, val in m.groupdict().items():
        if val is None:
            continue
        d = key[0]
        if d == "y":
            n = int(val)
            v["Y"] = 2000 + n if n < 69 else 1900 + n
        elif d == "f":
            frac = _frac_ns(val)
        elif d == "p":
            pm = val.lower() == "pm"
        elif d == "b":
            if val.lower() not in _MONTHS:
                return NAT, 2
            v["m"] = _MONTHS.index(val.lower()) + 1
        elif d == "I":
            hour12 = int(val)
            if not 1 <= hour12 <= 12:
                return NAT, 2
        else:
            v[d] = int(val)
    if hour12 is not None:
        v["H"] = hour12 % 12 + (12 if pm else 0)
    ns, rc = _to_ns(v["Y"], v["m"], v["d"], v["H"], v["M"], v["S"], frac)
    return (NAT, 2) if rc else (ns, 0)


def strptime_agrees(s, fmt):
    """For a value datetime_fmt_ref parses: does datetime.strptime give the same instant?"""
    ns, st = datetime_fmt_ref(s, fmt)
    assert st == 0
    try:
        t = _dt.datetime.strptime(s.strip(" \t"), fmt)
    except ValueError:
        # strptime reads %f as at most 6 digits: longer fractions are the only accepted
        # difference (the C parser keeps nanoseconds)
        return "%f" in fmt
    d = t - _EPOCH
    want = (d.days * 86400 + d.seconds) * 10**9 + d.microseconds * 1000
    return ns // 1000 == want // 1000


ISO_RE = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[Tt ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]+))?)?"
    r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2})?)?)?",
    re.ASCII)


def datetime_iso_ref(s):
    if _blank(s):
        return NAT, 1
    m = ISO_RE.fullmatch(s.strip(" \t"))
    if not m:
        return NAT, 2
    g = m.groupdict()
    off = 0
    if g["sign"]:
        oh, om = int(g["oh"]), int(g["om"] or 0)
        if oh > 23 or om > 59:
            return NAT, 2
        off = (oh * 3600 + om * 60) * (-1 if g["sign"] == "-" else 1)
    ns, rc = _to_ns(int(g["y"]), int(g["mo"]), int(g["d"]), int(g["h"] or 0),
                    int(g["mi"] or 0), int(g["s"] or 0), _frac_ns(g["f"] or ""), off)
    return (NAT, 2) if rc else (ns, 0)


def datetime_ref(s, fmt=None):
    return datetime_iso_ref(s) if fmt is None else datetime_fmt_ref(s, fmt)
