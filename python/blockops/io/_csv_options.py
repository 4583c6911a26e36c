"""CSV reader options: the column types (codes exported by the C core), dtype specs, missing
values, sizes and header names, as :class:`blockops.io.CsvBlockReader` takes them."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from .. import _core
from .._sizes import parse_size  # noqa: F401  (the reader's sizes; re-exported)

# The converter's type codes (enum bo_csv_type), exported by the C core, never copied here.
_CODES = _core.csv_type_codes()
(_T_INT8, _T_INT16, _T_INT32, _T_INT64, _T_F32, _T_F64, _T_BOOL, _T_STR, _T_WKT, _T_HEX, _T_DT,
 _T_DT_ISO, _T_U64) = (_CODES[k] for k in (
    "INT8", "INT16", "INT32", "INT64", "FLOAT32", "FLOAT64", "BOOL", "STR", "WKT_POINT", "HEX",
    "DATETIME", "DATETIME_ISO", "UINT64"))
# inference only: integers beyond int64 and uint64, converted as text and made exact Python
# ints (_csv_assemble._bigints)
_T_BIGINT = _CODES["BIGINT"]
_INT_CODES = {"int8": _T_INT8, "int16": _T_INT16, "int32": _T_INT32, "int64": _T_INT64,
              "uint64": _T_U64}
_NP_OF = {_T_INT8: np.int8, _T_INT16: np.int16, _T_INT32: np.int32, _T_INT64: np.int64,
          _T_F32: np.float32, _T_F64: np.float64, _T_BOOL: np.bool_, _T_HEX: np.uint64,
          _T_U64: np.uint64}


#: pandas' default missing-value strings (``pandas.read_csv``'s ``keep_default_na``).
DEFAULT_NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)


@dataclasses.dataclass(frozen=True)
class _Spec:
    """How one selected input field becomes output column(s)."""

    field: int
    name: Any
    code: int
    nullable: bool = False
    fmt: str | None = None
    category: bool = False
    dtype_name: str = ""
    # (type, na) an inferred column was typed from, see _join_state; None for a given dtype
    infer_state: tuple | None = None

    def out_names(self):
        if self.code == _T_WKT:
            if self.fmt:  # "wkt_point:LON,LAT"
                return self.fmt.split(",")
            return [f"{self.name}_lon", f"{self.name}_lat"]
        return [self.name]


def _parse_dtype(spec, col) -> tuple[int, bool, str | None, bool, str]:
    """dtype spec -> (code, nullable, datetime format, category, canonical name)."""
    if isinstance(spec, type) and spec is str:
        spec = "str"
    if not isinstance(spec, str):
        try:
            spec = np.dtype(spec).name
        except TypeError:
            spec = str(spec)
    s = spec.strip()
    low = s.lower()
    if low in _INT_CODES:  # Int64, UInt64: nullable
        return _INT_CODES[low], s[0].isupper(), None, False, s
    if low in ("float32", "float64", "float"):
        return (_T_F32 if low == "float32" else _T_F64), False, None, False, low
    if low in ("bool", "boolean"):
        return _T_BOOL, low == "boolean", None, False, low
    if low in ("str", "string", "object"):
        return _T_STR, True, None, False, "str"
    if low == "bigint":  # exact Python ints of any size (object column): converted as text
        return _T_STR, True, None, False, "bigint"
    if low == "category":
        return _T_STR, True, None, True, "category"
    if low == "wkt_point":
        return _T_WKT, False, None, False, low
    if low.startswith("wkt_point:"):
        names = [x.strip() for x in s.split(":", 1)[1].split(",")]
        if len(names) != 2 or not all(names) or names[0] == names[1]:
            raise ValueError(f"dtypes[{col!r}] = {spec!r}: give two output names, "
                             "e.g. 'wkt_point:x_pos,y_pos' (longitude first)")
        return _T_WKT, False, ",".join(names), False, "wkt_point"
    if low == "hex":
        return _T_HEX, False, None, False, low
    if low in ("datetime", "datetime:iso", "datetime64", "datetime64[ns]"):
        return _T_DT_ISO, False, None, False, "datetime:iso"
    if low.startswith("datetime:"):
        return _T_DT, False, s.split(":", 1)[1], False, s
    raise ValueError(
        f"dtypes[{col!r}] = {spec!r} is not supported; use one of int8/16/32/64, Int8/16/32/64, "
        "uint64, UInt64, bigint, float32, float64, bool, boolean, str, category, wkt_point, hex, "
        "datetime, "
        "datetime:<format>"
    )


def _mangle(names: list[str]) -> list[str]:
    """Header names as pandas' C parser makes them: an empty cell is ``Unnamed: <i>``; a
    duplicate gets the first ``.1``, ``.2`` ... suffix that is neither taken nor a name the
    header itself holds (``a,a,a.1`` -> ``a, a.2, a.1``: the file's own ``a.1`` keeps its
    name, so ``columns=["a.1"]`` selects it). Given names are settled before the unnamed ones,
    so an empty cell, not a named column, gives way (``,Unnamed: 0`` -> ``Unnamed: 0.1,
    Unnamed: 0``)."""
    out = [n if n != "" else f"Unnamed: {i}" for i, n in enumerate(names)]
    unnamed = [i for i, n in enumerate(names) if n == ""]
    order = [i for i in range(len(out)) if names[i] != ""] + unnamed
    counts: dict[str, int] = {}
    for i in order:
        col = base = out[i]
        cur = counts.get(col, 0)
        while cur > 0:
            counts[base] = cur + 1
            col = f"{base}.{cur}"
            cur = cur + 1 if col in out else counts.get(col, 0)
        out[i] = col
        counts[col] = cur + 1
    return out


def _na_bytes(values) -> tuple:
    return tuple(v.encode("utf-8") for v in values)


def _field_value(message: str):
    m = re.search(r'value "(.*)" (cannot|is out|is not valid UTF-8)', message, re.S)
    return m.group(1) if m else None
