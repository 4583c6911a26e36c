"""Shared fixtures for the blockops test suite.

``simd_level``: runs the test once per SIMD level this CPU supports, with that level forced
in-process through ``blockops._config.simd_level(name)``.  (tests/test_config.py checks that
forcing a level through ``BLOCKOPS_SIMD`` at import gives bitwise the same results.)
"""
from __future__ import annotations

import os
import sys

import pytest

# tests/reference is imported as the top-level package ``reference``.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

try:  # collect even when the package is not built yet; the fixture then fails loudly
    import blockops  # noqa: F401
    from blockops import _config

    SIMD_LEVELS = list(_config.supported_simd_levels())
    _IMPORT_ERROR = None
except Exception as exc:  # pragma: no cover - only when the build is broken
    _config = None
    SIMD_LEVELS = ["<blockops not importable>"]
    _IMPORT_ERROR = exc


@pytest.fixture(params=SIMD_LEVELS)
def simd_level(request):
    """Force each supported SIMD level in turn for the duration of one test."""
    if _IMPORT_ERROR is not None:
        pytest.fail(f"import blockops failed: {_IMPORT_ERROR!r}")
    with _config.simd_level(request.param):
        yield request.param


@pytest.fixture
def restore_num_threads():
    """Put blockops' global thread count back after a test changes it."""
    import blockops as bo

    before = bo.get_num_threads()
    yield before
    bo.set_num_threads(before)
