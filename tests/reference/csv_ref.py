"""Executable specification of blockops' CSV reader (issue 3, /work/notes/csv_spec.md) and the
ONE shared generator of hostile CSV input for the test suite and the fuzz seed corpus.

Three parts, none of which imports blockops:

* :func:`tokenize`: a pure-Python RFC 4180 state machine written straight from the rules
  (plus the contract's additions: UTF-8 BOM stripped, LF and CRLF, empty lines skipped, a quote
  inside an unquoted field is literal).  It returns :class:`Record` s: the fields as ``str``,
  the 1-based physical line the record starts on (header = line 1, lines inside quoted fields
  count) and whether the record ended inside an open quote (unterminated at EOF).
  Input the contract does not define (text after a closing quote, ``"ab"c``; a lone CR; invalid
  UTF-8) raises :class:`Unspecified` in strict mode, so a property test only compares what the
  contract pins down.
* :func:`expected_str_frame`: what ``read_csv(data, dtypes="str", on_bad_lines="skip")`` must
  return for a tokenized file: rows with the header's field count, NA mapped, index = global
  data-row ordinal with gaps at skipped rows; and :func:`pandas_expected`, which builds the
  expected frame with ``pandas.read_csv`` given equivalent options.
* Hostile input: :data:`NASTY` (named, deterministic byte strings), :func:`hostile_bytes` and
  :func:`structured_csv` (hypothesis strategies), :func:`float_text` / :func:`int_text`
  (number edge cases), :func:`table` (random DataFrames for the pandas round trip), and
  :func:`write_corpus` (the libFuzzer seed corpus in ``csrc/fuzz/corpus/csv``).
"""
from __future__ import annotations

import io
import math
import os
import struct
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BOM = b"\xef\xbb\xbf"


def _str_dtype():
    # pandas' str dtype (Arrow strings, NaN for missing); spelled here as in
    # blockops._compat.str_dtype because this module does not import blockops
    try:
        return pd.StringDtype("pyarrow", na_value=np.nan)  # pandas >= 2.3
    except TypeError:
        return pd.StringDtype("pyarrow_numpy")  # pandas 2.1, 2.2


#: the dtype of the reader's string columns
STR = _str_dtype()

#: pandas' default NA strings (the contract's ``keep_default_na=True`` set).
DEFAULT_NA = frozenset([
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
])

#: blocksizes every invariance test runs: down to one byte, so every boundary position is hit.
TINY_BLOCKSIZES = (1, 2, 3, 7, 64, 1000)
BLOCKSIZES = TINY_BLOCKSIZES + (None,)  # None = the reader's default
THREADS = (1, 2, 3)


# --------------------------------------------------------------------------------------------
# the reference tokenizer


class Unspecified(ValueError):
    """The contract does not say what this input means (only invariance can be checked)."""


@dataclass
class Record:
    fields: list
    line: int                 # 1-based physical line where the record starts
    unterminated: bool = False
    quoted: list = field(default_factory=list)  # per field: was it quoted


def tokenize(data: bytes, *, delimiter: str = ",", quotechar: str = '"',
             strict: bool = True) -> list[Record]:
    """Split ``data`` into records, RFC 4180 rules.

    States: START_FIELD, UNQUOTED, QUOTED, QUOTE_IN_QUOTED (just saw a quote inside a quoted
    field: a second quote is an escaped quote, a delimiter/newline/EOF closes the field).
    A record boundary is LF or CRLF outside quotes; a line with nothing on it is skipped (it is
    not a record).  With ``strict=False`` undefined input follows pandas' C tokenizer (text after
    a closing quote is appended to the field; a lone CR ends the record).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if strict:
            raise Unspecified(f"invalid UTF-8: {exc}") from None
        text = data.decode("utf-8", "surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]

    records: list[Record] = []
    line = 1
    rec_line = 1
    fields: list[str] = []
    quoted: list[bool] = []
    buf: list[str] = []
    state = "START_RECORD"
    i, n = 0, len(text)

    def end_field(was_quoted):
        fields.append("".join(buf))
        quoted.append(was_quoted)
        buf.clear()

    def end_record(unterminated=False):
        if (len(fields) == 1 and not quoted[0] and fields[0] != ""
                and fields[0].strip(" \t") == ""):
            # a line of only blanks: the contract skips *empty* lines and says nothing of
            # these; pandas (and the reader) skip them too
            if strict:
                raise Unspecified(f"whitespace-only line {rec_line}")
            fields.clear()
            quoted.clear()
            return
        records.append(Record(list(fields), rec_line, unterminated, list(quoted)))
        fields.clear()
        quoted.clear()

    field_quoted = False
    while i < n:
        c = text[i]
        # a record separator is "\n" or "\r\n"; a lone "\r" outside quotes is undefined
        if c == "\r" and state != "QUOTED":
            if i + 1 < n and text[i + 1] == "\n":
                i += 1
                c = "\n"
            elif strict:
                raise Unspecified(f"lone CR at line {line}")
            else:
                c = "\n"
        if state == "START_RECORD":
            if c == "\n":          # empty line: skipped, but it is a physical line
                line += 1
                i += 1
                continue
            rec_line = line
            state = "START_FIELD"
            continue               # reprocess c as the first char of a field
        if state == "START_FIELD":
            field_quoted = False
            if c == quotechar:
                field_quoted = True
                state = "QUOTED"
            elif c == delimiter:
                end_field(False)
            elif c == "\n":
                end_field(False)
                end_record()
                line += 1
                state = "START_RECORD"
            else:
                buf.append(c)
                state = "UNQUOTED"
        elif state == "UNQUOTED":   # a quote here is a literal character
            if c == delimiter:
                end_field(False)
                state = "START_FIELD"
            elif c == "\n":
                end_field(False)
                end_record()
                line += 1
                state = "START_RECORD"
            else:
                buf.append(c)
        elif state == "QUOTED":
            if c == quotechar:
                state = "QUOTE_IN_QUOTED"
            else:
                if c == "\n":
                    line += 1
                buf.append(c)
        elif state == "QUOTE_IN_QUOTED":
            if c == quotechar:      # "" -> "
                buf.append(quotechar)
                state = "QUOTED"
            elif c == delimiter:
                end_field(True)
                state = "START_FIELD"
            elif c == "\n":
                end_field(True)
                end_record()
                line += 1
                state = "START_RECORD"
            else:
                if strict:
                    raise Unspecified(f"text after a closing quote at line {line}")
                buf.append(c)       # pandas: continue as an unquoted field
                state = "UNQUOTED"
        i += 1

    # end of input
    if state == "QUOTED":
        end_field(True)
        end_record(unterminated=True)
    elif state == "QUOTE_IN_QUOTED":
        end_field(True)
        end_record()
    elif state in ("UNQUOTED", "START_FIELD"):
        end_field(False)
        end_record()
    return records


def is_na(value: str, na_values=(), keep_default_na: bool = True, quoted: bool = False) -> bool:
    if keep_default_na and value in DEFAULT_NA:
        return True
    return value in set(na_values)


@dataclass
class Expected:
    """What the reader must produce for a file read with ``dtypes="str"``."""

    header: list
    frame: pd.DataFrame                  # on_bad_lines="skip" result
    bad_lines: list                       # physical line of every bad row, in file order
    rows_in: int

    @property
    def first_bad_line(self):
        return self.bad_lines[0] if self.bad_lines else None


def expected_str_frame(data: bytes, *, header: bool = True, strict: bool = True,
                       na_values=(), keep_default_na: bool = True) -> Expected:
    """The all-``str`` frame the reader must give for ``data``.

    A bad row is one with a field count different from the header's (or the first row's with
    ``header=False``) or an unterminated quote at EOF.  Rows are numbered 0.. over all data rows,
    bad ones included, so a skipped row leaves a gap in the index.
    """
    recs = tokenize(data, strict=strict)
    if not recs:
        return Expected([], pd.DataFrame(), [], 0)
    if header:
        names = recs[0].fields
        body = recs[1:]
    else:
        names = list(range(len(recs[0].fields)))
        body = recs
    ncol = len(names)
    cols = [[] for _ in range(ncol)]
    index, bad = [], []
    for k, r in enumerate(body):
        if r.unterminated or len(r.fields) != ncol:
            bad.append(r.line)
            continue
        index.append(k)
        for j, v in enumerate(r.fields):
            cols[j].append(None if is_na(v, na_values, keep_default_na) else v)
    if len(index) == len(body):
        idx = pd.RangeIndex(len(body))
    else:
        idx = pd.Index(np.asarray(index, dtype=np.int64))
    frame = pd.DataFrame({i: pd.Series(c, dtype=STR, index=idx) for i, c in enumerate(cols)},
                         index=idx)
    frame.columns = pd.Index(names) if header else pd.RangeIndex(ncol)
    return Expected(list(names), frame, bad, len(body))


# --------------------------------------------------------------------------------------------
# pandas with equivalent options


_PD_DTYPES = {
    "str": STR, "string": STR, "int8": "int8", "int16": "int16", "int32": "int32",
    "int64": "int64", "Int8": "Int8", "Int16": "Int16", "Int32": "Int32", "Int64": "Int64",
    "float32": "float64", "float64": "float64", "bool": "bool", "boolean": "boolean",
    "category": "category",
}


def pandas_expected(source, *, columns=None, dtypes=None, header=True, delimiter=",",
                    quotechar='"', na_values=None, keep_default_na=True, rename=None):
    """``pandas.read_csv`` with the options equivalent to the reader's.

    Floats are parsed with ``float_precision="round_trip"`` (Python's correctly rounded
    ``float()``), and float32 columns are float64 rounded to float32 (the contract), not
    pandas' own float32 parser.  ``columns`` keeps the given order; positions map to names.
    """
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    kw = dict(sep=delimiter, quotechar=quotechar, header=0 if header else None,
              keep_default_na=keep_default_na)
    if na_values is not None:
        kw["na_values"] = na_values
    f32 = []
    if dtypes is not None:
        if isinstance(dtypes, dict):
            kw["dtype"] = {}
            for k, v in dtypes.items():
                v = str(np.dtype(v)) if not isinstance(v, str) else v
                kw["dtype"][k] = _PD_DTYPES[v]
                if v == "float32":
                    f32.append(k)
        else:
            v = str(np.dtype(dtypes)) if not isinstance(dtypes, str) else dtypes
            kw["dtype"] = _PD_DTYPES[v]
            if v == "float32":
                f32 = None  # all
    df = pandas_read_csv(source, **kw)
    if f32 is None:
        f32 = list(df.columns)
    for c in f32:
        if c in df.columns:
            df[c] = df[c].astype(np.float32)
    if columns is not None:
        names = [df.columns[c] if isinstance(c, int) and c not in df.columns else c
                 for c in columns]
        df = df[names]
    if rename:
        df = df.rename(columns=rename)
    return df


def pandas_read_csv(source, **kw):
    """``pandas.read_csv`` with correctly rounded floats (``float_precision="round_trip"``,
    deprecated in pandas 3.1 but still honoured; the warning is silenced here) and string
    columns inferred as the str dtype (pandas 3's default; ``future.infer_string`` before)."""
    import contextlib
    import warnings

    kw.setdefault("float_precision", "round_trip")
    pandas2 = int(pd.__version__.split(".")[0]) < 3
    infer_str = pd.option_context("future.infer_string", True) if pandas2 else \
        contextlib.nullcontext()
    with warnings.catch_warnings(), infer_str:
        warnings.filterwarnings("ignore", message=".*float_precision.*")
        df = pd.read_csv(source, **kw)
    if pandas2 and isinstance(df.columns.dtype, pd.StringDtype):  # the option typed the header too
        df.columns = df.columns.astype(object)
    return df


def float_bits(a) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.uint64 if a.dtype == np.float64 else np.uint32)


# --------------------------------------------------------------------------------------------
# hostile files (deterministic)

def _f(*lines, nl=b"\n", end=True):
    out = nl.join(lines)
    return out + nl if end else out


#: name -> bytes.  Every file uses header ``a,b`` (or ``a`` / ``a,b,c``) so the reference can
#: say exactly what must come out; bad rows are included on purpose in the ``bad_*`` ones.
NASTY: dict[str, bytes] = {
    "simple": _f(b"a,b", b"1,x", b"2,y", b"3,z"),
    "crlf": _f(b"a,b", b"1,x", b"2,y", b"3,z", nl=b"\r\n"),
    "mixed_newlines": b"a,b\n1,x\r\n2,y\n3,z\r\n",
    "bom": BOM + _f(b"a,b", b"1,x", b"2,y"),
    "bom_crlf_no_final_newline": BOM + _f(b"a,b", b"1,x", b"2,y", nl=b"\r\n", end=False),
    "no_final_newline": _f(b"a,b", b"1,x", b"2,y", end=False),
    "no_final_newline_quoted": b'a,b\n1,x\n2,"y\ny"',
    "empty_lines": b"a,b\n\n1,x\n\n\n2,y\n\n",
    "empty_lines_crlf": b"a,b\r\n\r\n1,x\r\n\r\n\r\n2,y\r\n\r\n",
    "header_only": b"a,b\n",
    "header_only_no_newline": b"a,b",
    "header_only_crlf": b"a,b\r\n",
    "empty": b"",
    "quoted_newline": b'a,b\n1,"line one\nline two"\n2,"x\n\n\ny"\n3,z\n',
    "quoted_crlf": b'a,b\r\n1,"line one\r\nline two"\r\n2,y\r\n',
    "quoted_delims_quotes": b'a,b\n"1,2","say ""hi"""\n"""",","\n"",""""""\n',
    "quoted_everything": b'"a","b"\n"1","x"\n"2","y"\n',
    "quoted_empty_is_na": b'a,b\n"",x\n1,""\n,\n',
    "literal_quote_in_unquoted": b'a,b\n1,ab"c\n2,x"\n3,5" disk\n',
    "long_field": b"a,b\n1," + b"x" * 5000 + b"\n2,y\n",
    "long_quoted_field": b'a,b\n1,"' + (b"x,\n\"\"" * 1500) + b'"\n2,y\n',
    "many_short_rows": b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 7) for i in range(300)),
    "one_column": b"a\n1\n\n2\n\"\"\n3\n",
    "one_column_crlf_empty": b"a\r\n\r\nx\r\n\r\n",
    "unicode": "a,b\n1,é\n2,日本語\n3,𝄞 clef\n4,\"ü,ß\"\n".encode(),
    "na_markers": b"a,b\n1,NA\n2,null\n3,\n4,N/A\nNaN,x\n",
    "wide": b",".join(b"c%d" % i for i in range(40)) + b"\n"
            + b",".join(b"%d" % i for i in range(40)) + b"\n",
    # bad rows (on_bad_lines="skip" drops them; "error" raises at the first one)
    "bad_too_many_fields": _f(b"a,b", b"1,x", b"2,y,EXTRA", b"3,z"),
    "bad_too_few_fields": _f(b"a,b", b"1,x", b"2", b"3,z"),
    "bad_after_multiline": b'a,b\n1,"x\ny\nz"\n2,y,EXTRA\n3,z\n',
    "bad_unterminated_quote": b'a,b\n1,x\n2,"never closed\n3,z\n',
    "bad_unterminated_quote_crlf": b'a,b\r\n1,x\r\n2,"never closed\r\n3,z\r\n',
    "bad_many": b"a,b\n" + b"".join((b"%d,x\n" % i) if i % 3 else (b"%d\n" % i)
                                   for i in range(60)),
}


# --------------------------------------------------------------------------------------------
# hypothesis strategies (imported lazily so the module works without hypothesis)

#: tokens of the hostile alphabet: CR only as part of CRLF (a lone CR is undefined), and
#: multi-byte UTF-8 so a block boundary can fall inside a character.
HOSTILE_TOKENS = ("a", "b", ",", '"', '""', "\n", "\r\n", "é", "€", "𝄞", "0", "1", ";")


def hostile_bytes(max_tokens: int = 60):
    """Random byte strings from :data:`HOSTILE_TOKENS`, after a fixed header ``c0,..``.

    Returns a strategy of ``(ncols, data)``.  Much of it is undefined by the contract (text after
    a closing quote): tests check only invariance on those.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw):
        ncols = draw(st.integers(1, 3))
        bom = draw(st.booleans())
        crlf = draw(st.booleans())
        head = ",".join(f"c{j}" for j in range(ncols)) + ("\r\n" if crlf else "\n")
        body = "".join(draw(st.lists(st.sampled_from(HOSTILE_TOKENS), max_size=max_tokens)))
        return ncols, (BOM if bom else b"") + (head + body).encode()

    return build()


def structured_csv(max_rows: int = 12):
    """Random CSV that the contract fully defines: fields from the hostile alphabet, quoted
    when they must be (or at random), rows of the right or wrong length, empty lines, CRLF,
    BOM, optional final newline, optional unterminated quote at the end.

    Returns a strategy of ``(ncols, data)``.
    """
    from hypothesis import strategies as st

    chars = st.sampled_from(("a", "b", ",", '"', "\n", "\r\n", "é", "𝄞", " ", "0", "NA"))

    @st.composite
    def build(draw):
        ncols = draw(st.integers(1, 4))
        nl = draw(st.sampled_from(("\n", "\r\n")))
        out = ["\ufeff"] if draw(st.booleans()) else []
        out.append(",".join(f"c{j}" for j in range(ncols)) + nl)
        nrows = draw(st.integers(0, max_rows))
        for _ in range(nrows):
            k = ncols if draw(st.integers(0, 5)) else draw(st.integers(1, ncols + 2))
            fields = []
            for _ in range(k):
                v = "".join(draw(st.lists(chars, max_size=6)))
                must = any(ch in v for ch in ',\n\r') or v.startswith('"')
                if must or draw(st.integers(0, 3)) == 0:
                    v = '"' + v.replace('"', '""') + '"'
                fields.append(v)
            row = ",".join(fields)
            if row == "":
                row = '""'  # one empty field: quote it, or it would be an empty line
            out.append(row + nl)
            if draw(st.integers(0, 6)) == 0:
                out.append(nl)  # empty line
        if draw(st.integers(0, 8)) == 0:
            out.append('"unterminated' + nl + "x")
        elif out and draw(st.booleans()):
            out[-1] = out[-1][: -len(nl)] if out[-1].endswith(nl) and len(out) > 2 else out[-1]
        text = "".join(out)
        # a line of only spaces is not an empty line in the contract but pandas would skip it;
        # keep such lines out so the reference never relies on either reading
        lines = text.replace("\r\n", "\n").split("\n")
        if any(ln.strip(" ") == "" and ln != "" for ln in lines):
            text = text.replace(" ", "s")
        return ncols, text.encode()

    return build()


def float_text():
    """Decimal float strings: many digits, extreme exponents, subnormals, -0.0, halfway cases,
    the forms ``.5``, ``5.``, ``+1e5``, ``1E-5``."""
    from hypothesis import strategies as st

    def fmt(parts):
        sign, ip, frac, exp, form = parts
        if form == 0:
            s = ip + ("." + frac if frac else "")
        elif form == 1:
            s = "." + (frac or "0")
        else:
            s = ip + "."
        if exp is not None:
            s += ("e" if exp % 2 else "E") + str(exp)
        return sign + s

    digits = st.text("0123456789", min_size=1, max_size=25)
    crafted = st.tuples(st.sampled_from(("", "-", "+")), digits,
                        st.text("0123456789", max_size=30),
                        st.one_of(st.none(), st.integers(-350, 330)),
                        st.sampled_from((0, 0, 0, 1, 2))).map(fmt)
    reprs = st.floats(allow_nan=False, allow_infinity=False).map(repr)
    subnormal = st.integers(1, 2**52 - 1).map(
        lambda m: repr(struct.unpack("<d", struct.pack("<Q", m))[0]))
    # halfway between two doubles: the exact decimal of (2k+1)/2 ulp, long and hard to round
    halfway = st.floats(min_value=1e-300, max_value=1e300).map(_halfway_text)
    edge = st.sampled_from(EDGE_FLOATS)
    return st.one_of(crafted, reprs, subnormal, halfway, edge)


EDGE_FLOATS = (
    "0", "-0", "0.0", "-0.0", "0e0", "-0e-0", "1e308", "1.7976931348623157e308",
    "1.7976931348623158e308", "1.7976931348623159e308", "2.2250738585072014e-308",
    "2.2250738585072011e-308", "4.9406564584124654e-324", "5e-324", "2.4703282292062327e-324",
    "2.4703282292062328e-324", "1e-400", "-1e-400", "1e400", "-1e400", "9007199254740993",
    "0.1", "0.30000000000000004", "123456789012345678901234567890", "1" + "0" * 310,
    "0." + "0" * 330 + "1", "3.14159265358979323846264338327950288419716939937510582097494459",
    "1.00000000000000011102230246251565404236316680908203125",  # exactly halfway 1 and 1+ulp
    "1.00000000000000011102230246251565404236316680908203126",
    "1.00000000000000011102230246251565404236316680908203124",
    "7.2057594037927933e16", "1.448997445238699", "8.98846567431158e307", "inf", "-inf",
)


def _halfway_text(x: float) -> str:
    from decimal import Decimal, getcontext

    getcontext().prec = 800
    nxt = math.nextafter(x, math.inf)
    return format((Decimal(x) + Decimal(nxt)) / 2, "f") if x < 1e22 else \
        format((Decimal(x) + Decimal(nxt)) / 2, "E").replace("E+", "e")


INT64_EDGE = ("0", "-0", "+0", "007", "-007", "9223372036854775807", "-9223372036854775808",
              "+9223372036854775807", "1", "-1", "4294967296", "2147483647", "-2147483648")


def int_text():
    from hypothesis import strategies as st

    # every digit count 1..19 with a sign and leading zeros: the converter's fast path takes
    # [+-] and 1..16 digits, the general parser the rest, and both must agree at the seam
    shaped = st.tuples(st.sampled_from(("", "-", "+")), st.sampled_from(("", "0", "00")),
                       st.integers(1, 19).flatmap(lambda k: st.integers(10 ** (k - 1), 10**k - 1))
                       ).map(lambda t: t[0] + t[1] + str(t[2])).filter(
                           lambda s: -(2**63) <= int(s) < 2**63)
    return st.one_of(st.integers(-(2**63), 2**63 - 1).map(str), st.sampled_from(INT64_EDGE),
                     shaped)


def table(min_rows: int = 0, max_rows: int = 25):
    """Random DataFrames that pandas writes and reads back: 2..5 columns of int64, float64
    (incl. subnormals, -0.0, extremes), bool, Int64 with NA, and strings with delimiters,
    quotes, newlines (LF and CRLF, never a lone CR: pandas writes that unquoted), unicode,
    empty strings and NA markers."""
    from hypothesis import strategies as st
    from hypothesis.extra import pandas as hpd  # noqa: F401  (keep hypothesis.extra importable)

    text_atoms = st.sampled_from(('a', 'Z', ',', '"', '""', '\n', '\r\n', 'é', '日', '𝄞', ' ',
                                  'NA', 'null', '1', '-', '.', 'e', '#', "'"))
    strings = st.lists(text_atoms, max_size=6).map("".join)
    floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64),
                       st.sampled_from((0.0, -0.0, 5e-324, 2.2250738585072014e-308,
                                        1.7976931348623157e308, -1e-310, 0.1, 1 / 3)))
    kinds = {
        "int": st.integers(-(2**63), 2**63 - 1),
        "float": floats,
        "bool": st.booleans(),
        "nint": st.one_of(st.none(), st.integers(-(2**62), 2**62)),
        "str": strings,
    }

    @st.composite
    def build(draw):
        ncols = draw(st.integers(2, 5))
        nrows = draw(st.integers(min_rows, max_rows))
        data, dtypes = {}, {}
        for j in range(ncols):
            kind = draw(st.sampled_from(sorted(kinds)))
            vals = draw(st.lists(kinds[kind], min_size=nrows, max_size=nrows))
            name = f"{kind}_{j}"
            if kind == "nint":
                data[name] = pd.array(vals, dtype="Int64")
                dtypes[name] = "Int64"
            elif kind == "str":
                data[name] = pd.Series(vals, dtype=object)
                dtypes[name] = "str"
            else:
                np_t = {"int": np.int64, "float": np.float64, "bool": np.bool_}[kind]
                data[name] = np.asarray(vals, dtype=np_t)
                dtypes[name] = {"int": "int64", "float": "float64", "bool": "bool"}[kind]
        return pd.DataFrame(data), dtypes

    return build()


# --------------------------------------------------------------------------------------------
# fuzz seed corpus


def corpus_files() -> dict[str, bytes]:
    """:data:`NASTY` plus inputs that only a fuzzer needs: embedded NULs, invalid UTF-8,
    lone CR, text after a closing quote, number edge cases, a very long field, and the BSM
    converters' edge cases."""
    out = {f"{k}.csv": v for k, v in NASTY.items()}
    out.update({
        "nul_bytes.csv": b"a,b\n1,x\x00y\n\x00,\x00\n2,\"\x00\"\n",
        "invalid_utf8.csv": b"a,b\n1,\xff\xfe\n2,\xc3\n3,\xe2\x82\n4,\xed\xa0\x80\n",
        "lone_cr.csv": b"a,b\r1,x\r2,y\r",
        "text_after_quote.csv": b'a,b\n"ab"c,1\n"x""y"z"",2\n',
        "quote_eof.csv": b'a,b\n1,"',
        "only_quotes.csv": b'""""""""\n"""\n"',
        "only_newlines.csv": b"\n\n\r\n\r\n\n",
        "only_bom.csv": BOM,
        "bom_twice.csv": BOM + BOM + b"a,b\n1,2\n",
        "long_field_64k.csv": b"a,b\n1," + b"7" * 65536 + b"\n",
        "long_quoted_64k.csv": b'a,b\n1,"' + b'\n""' * 21845 + b'"\n',
        "floats.csv": b"x\n" + b"\n".join(s.encode() for s in EDGE_FLOATS) + b"\n",
        "ints.csv": b"x\n" + b"\n".join(s.encode() for s in INT64_EDGE)
                    + b"\n9223372036854775808\n-9223372036854775809\n99999999999999999999999\n"
                    + b"1.0\n1e3\n0x10\n--1\n+\n-\n \n 1\n1 \n",
        "bools.csv": b"x\nTrue\nFalse\ntrue\nfalse\nTRUE\nFALSE\nyes\n1\n0\nTrUe\n",
        "wkt.csv": b"p\nPOINT (1 2)\npoint(-1.5 2.5e1)\nPOINT  ( 3   4 )\nPOINT EMPTY\n"
                   b"POINT (1)\nPOINT (1 2 3)\nPOINT (a b)\nLINESTRING (1 2, 3 4)\n\"POINT (5 6)\"\n",
        "hex.csv": b"h\nCB950124\ncb950124\n0xFF\n0\nFFFFFFFFFFFFFFFF\n10000000000000000\n"
                   b"12.0\n12.5\nxyz\n0x\n",
        "datetime.csv": b"t\n04/06/2021 10:00:00 AM\n12/31/1999 11:59:59 PM\n"
                        b"02/29/2021 01:00:00 AM\n13/01/2021 01:00:00 AM\n04/06/2021 12:00:00 AM\n"
                        b"04/06/2021 13:00:00 PM\n2021-04-06T10:00:00Z\n",
        "iso.csv": b"t\n2021-04-06T10:00:00\n2021-04-06 10:00\n2021-04-06T10:00:00.123456789Z\n"
                   b"2021-04-06T10:00:00+05:30\n2021-04-06T10:00:00-23:59\n2021-4-6\n",
        "wrong_counts.csv": b"a,b,c\n1\n1,2\n1,2,3\n1,2,3,4\n,,\n,,,\n",
        "crlf_split.csv": b"a,b\r\n" + b"1,x\r\n" * 100,
    })
    return out


def write_corpus(directory: str) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, data in sorted(corpus_files().items()):
        p = os.path.join(directory, name)
        with open(p, "wb") as fh:
            fh.write(data)
        written.append(p)
    return written


if __name__ == "__main__":  # python tests/reference/csv_ref.py  -> (re)write the seed corpus
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for p in write_corpus(os.path.join(root, "csrc", "fuzz", "corpus", "csv")):
        print(p)
