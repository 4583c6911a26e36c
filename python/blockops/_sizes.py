"""Sizes as users write them: ``65536``, ``"64MB"``, ``"1MiB"``."""
from __future__ import annotations

import re

import numpy as np

_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)


_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40, "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def parse_size(value, name: str = "size", minimum: int = 1) -> int:
    """``64MB`` -> 64_000_000, ``"1MiB"`` -> 1_048_576, ints pass through (must be >=
    ``minimum``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = int(value)
    elif isinstance(value, str):
        m = _SIZE_RE.match(value)
        unit = (m.group(2) or "").lower() if m else None
        if not m or unit not in _UNITS:
            raise ValueError(f"{name}={value!r} is not a size (examples: 65536, '64MB', '1MiB')")
        n = int(float(m.group(1)) * _UNITS[unit])
    else:
        raise TypeError(f"{name} must be an int or a string like '64MB', not {type(value).__name__}")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum} byte{'s' if minimum != 1 else ''}, "
                         f"got {value!r}")
    return n
