"""What differs between the Python, pandas and pyarrow versions blockops supports (internal).

One place for each difference, so the floors in pyproject.toml can be raised by deleting code
here, and tests can force the fallback path of each one.
"""
from __future__ import annotations

__all__ = ["toml_module"]


def toml_module():
    """``tomllib`` (Python >= 3.11) or ``tomli``, the same parser as a package (a dependency of
    blockops on Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    return tomllib

