"""blockops: fast, memory-bounded operators for pandas and Dask pipelines, with a C core."""
from __future__ import annotations

import logging as _logging

__version__ = "0.1.0"

from ._errors import (  # noqa: E402
    BlockopsDomainError,
    BlockopsError,
    BlockopsMemoryError,
    CsvInferenceError,
    CsvParseError,
    LimitError,
    SimdConfigError,
    UnsupportedError,
)
from ._config import (  # noqa: E402
    config_info,
    get_num_threads,
    output_pool_info,
    release_output_pool,
    set_num_threads,
    set_output_pool_limit,
    show_config,
)
from . import geo, resources  # noqa: E402
from . import labels  # noqa: E402

_logging.getLogger("blockops").addHandler(_logging.NullHandler())

__all__ = [
    "__version__",
    "BlockopsError",
    "BlockopsDomainError",
    "BlockopsMemoryError",
    "CsvInferenceError",
    "CsvParseError",
    "LimitError",
    "SimdConfigError",
    "UnsupportedError",
    "config_info",
    "geo",
    "labels",
    "resources",
    "get_num_threads",
    "output_pool_info",
    "release_output_pool",
    "set_num_threads",
    "set_output_pool_limit",
    "show_config",
]
