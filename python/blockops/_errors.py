"""The exception hierarchy and the one place where C status codes become exceptions."""
from __future__ import annotations

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
    """Base class of every error blockops raises on purpose."""

    code: int = -9
    status: str = "BO_ERR_INTERNAL"

    def __init__(self, message: str = "", **details):
        super().__init__(message)
        for k, v in details.items():
            setattr(self, k, v)


class BlockopsMemoryError(BlockopsError, MemoryError):
    """An allocation inside the C core failed."""


class BlockopsArgumentError(BlockopsError, ValueError):
    """An argument was rejected by the C core."""


class BlockopsDomainError(BlockopsError, ValueError):
    """A value is outside its valid domain (e.g. a latitude of 91). Has ``.index`` and ``.value``."""


class CsvParseError(BlockopsError, ValueError):
    """Malformed CSV input. Has ``.path``, ``.line``, ``.column`` and ``.byte_offset``."""


class CsvInferenceError(CsvParseError):
    """Values that do not fit the types a reader inferred (no ``dtypes=`` given for them).

    A streaming reader cannot retype blocks it has handed out, so it raises this whatever
    ``on_bad_lines`` says (the rows are not bad). ``.dtypes`` is the ``dtypes=`` argument
    that reads the file; ``.line``, ``.column`` and ``.value`` are the first misfit's."""


class SimdConfigError(BlockopsError, ValueError):
    """``BLOCKOPS_SIMD`` names an unknown level or one this CPU cannot run."""


class UnsupportedError(BlockopsError, RuntimeError):
    """A feature is not compiled into this build or not supported by this CPU."""


class Interrupted(BlockopsError, KeyboardInterrupt):
    """A long operation stopped because of Ctrl-C."""


class LimitError(BlockopsError, ValueError):
    """A configured limit (e.g. ``max_row_bytes``) was exceeded."""


class BlockopsIOError(BlockopsError, OSError):
    """Reading or writing failed."""


_BY_STATUS = {
    "BO_ERR_NOMEM": BlockopsMemoryError,
    "BO_ERR_ARG": BlockopsArgumentError,
    "BO_ERR_DOMAIN": BlockopsDomainError,
    "BO_ERR_PARSE": CsvParseError,
    "BO_ERR_IO": BlockopsIOError,
    "BO_ERR_UNSUPPORTED": UnsupportedError,
    "BO_ERR_INTERRUPTED": Interrupted,
    "BO_ERR_LIMIT": LimitError,
    "BO_ERR_INTERNAL": BlockopsError,
}


def from_status(code, status, message, func, argname, index, line, column, byte_offset, value):
    """Build the exception for a C status (called by the binding; not public API)."""
    cls = _BY_STATUS.get(status, BlockopsError)
    details = {
        "code": code,
        "status": status,
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
