"""The exception hierarchy and the one place where C status codes become exceptions."""
from __future__ import annotations

import functools
import math

__all__ = [
    "BlockopsError",
    "BlockopsMemoryError",
    "BlockopsDomainError",
    "CsvParseError",
    "CsvInferenceError",
    "SimdConfigError",
    "UnsupportedError",
    "Interrupted",
    "LimitError",
    "from_status",
]


class BlockopsError(Exception):
    """Base class of every error blockops raises on purpose. ``.status`` is the name of the C
    status it stands for (each class has one; see :func:`from_status`) and ``.code`` its
    number."""

    status: str = "BO_ERR_INTERNAL"

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        if "code" not in details:  # raised by Python for its status: the code C gives it
            self.code = _code_of(self.status)
        for k, v in details.items():
            setattr(self, k, v)


@functools.cache
def _code_of(status: str):
    try:
        from . import _core  # the table is exported from C, never copied (GUIDE section 8)
    except ImportError:  # an error raised while the extension itself fails to import
        return None
    return _core.status_codes().get(status)


class BlockopsMemoryError(BlockopsError, MemoryError):
    """An allocation inside the C core failed."""

    status = "BO_ERR_NOMEM"


class BlockopsArgumentError(BlockopsError, ValueError):
    """An argument was rejected by the C core."""

    status = "BO_ERR_ARG"


class BlockopsDomainError(BlockopsError, ValueError):
    """A value is outside its valid domain (e.g. a latitude of 91). Has ``.index`` and ``.value``."""

    status = "BO_ERR_DOMAIN"


class CsvParseError(BlockopsError, ValueError):
    """Malformed CSV input. Has ``.path``, ``.line``, ``.column`` and ``.byte_offset``."""

    status = "BO_ERR_PARSE"


class CsvInferenceError(CsvParseError):
    """Values that do not fit the types a reader inferred (no ``dtypes=`` given for them).

    A streaming reader cannot retype blocks it has handed out, so it raises this whatever
    ``on_bad_lines`` says (the rows are not bad). ``.dtypes`` is the ``dtypes=`` argument
    that reads the file; ``.line``, ``.column`` and ``.value`` are the first misfit's."""


class SimdConfigError(BlockopsError, ValueError):
    """``BLOCKOPS_SIMD`` names an unknown level or one this CPU cannot run."""


class UnsupportedError(BlockopsError, RuntimeError):
    """A feature is not compiled into this build or not supported by this CPU."""

    status = "BO_ERR_UNSUPPORTED"


class Interrupted(BlockopsError, KeyboardInterrupt):
    """A long operation stopped because of Ctrl-C."""

    status = "BO_ERR_INTERRUPTED"


class LimitError(BlockopsError, ValueError):
    """A configured limit (e.g. ``max_row_bytes``) was exceeded."""

    status = "BO_ERR_LIMIT"


class BlockopsIOError(BlockopsError, OSError):
    """Reading or writing failed."""

    status = "BO_ERR_IO"


# The one status -> class table, built from the classes' own status.
_BY_STATUS = {cls.status: cls for cls in (
    BlockopsMemoryError, BlockopsArgumentError, BlockopsDomainError, CsvParseError,
    BlockopsIOError, UnsupportedError, Interrupted, LimitError, BlockopsError)}


def from_status(code, status, message, func, argname, index, line, column, byte_offset, value):
    """Build the exception for a C status (called by the binding, csrc/py/bo_py.c, for every
    status; not public API). ``message`` is the C message, kept as ``.reason``; ``func`` leads
    the text."""
    cls = _BY_STATUS.get(status, BlockopsError)
    details = {
        "code": code,
        "status": status,
        "reason": message,
        "index": None if index < 0 else int(index),
        "line": None if line < 0 else int(line),
        "column": None if column < 0 else int(column),
        "byte_offset": None if byte_offset < 0 else int(byte_offset),
        "value": value,
        "argument": argname,
    }
    if status == "BO_ERR_DOMAIN" and argname is not None and details["index"] is not None:
        shown = repr(float(value)) if not math.isnan(value) else "nan"
        text = (
            f"{func}: {argname}[{details['index']}] = {shown} is outside [-90, 90] "
            "(pass validate=False to skip this check)"
        )
    else:
        text = f"{func}: {message}"
    return cls(text, **details)


def located(exc: BlockopsError, text: str, **details) -> BlockopsError:
    """``exc`` (built by :func:`from_status`, so its class follows the status) with ``text`` as
    its message and ``details`` (e.g. ``path``, ``line``, ``column``) set: for the Python
    callers that know where the input came from, which the C core does not (the CSV reader
    adds the file, its line and the column name to the binding's errors)."""
    exc.args = (text,)
    for k, v in details.items():
        setattr(exc, k, v)
    return exc
