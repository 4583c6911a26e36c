"""What differs between the Python, pandas and pyarrow versions blockops supports (internal).

One place for each difference, so the floors in pyproject.toml can be raised by deleting code
here, and tests can force the fallback path of each one.
"""
from __future__ import annotations

import functools

__all__ = ["str_dtype", "toml_module"]


def toml_module():
    """``tomllib`` (Python >= 3.11) or ``tomli``, the same parser as a package (a dependency of
    blockops on Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    return tomllib


@functools.lru_cache(maxsize=None)
def str_dtype():
    """pandas' Arrow-backed string dtype with NaN as the missing value: the ``str`` dtype of
    pandas >= 3, spelled ``StringDtype("pyarrow", na_value=np.nan)`` since pandas 2.3 and
    ``StringDtype("pyarrow_numpy")`` in pandas 2.1 and 2.2 (pandas 3 no longer accepts that)."""
    import numpy as np
    import pandas as pd

    try:
        return pd.StringDtype("pyarrow", na_value=np.nan)
    except TypeError:  # pandas < 2.3: no na_value=
        return pd.StringDtype("pyarrow_numpy")
