"""Connected-vehicle (V2X) misbehaviour pipeline as memory-bounded operators.

Operators (:mod:`blockops.v2x.ops`) take and return pandas DataFrames and go straight into
``map_partitions``; :class:`Pipeline` runs them block by block from a TOML config; the
classifier stage lives in :mod:`blockops.v2x.ml`. See ``docs/v2x.md``.
"""
from .ops import (ATTACKS, BSM_TIME_FORMAT, DEFAULT_COLUMNS, DEFAULT_POOL_SIZE, STREAMS,
                  TIMESTAMP_PARTS, DonorPool, add_attackers, clean, filter_date_range,
                  filter_radius, filter_xy_range, hex_to_int, id_keys, meta, parse_point,
                  positional_offset_const, positional_offset_const_per_id_with_random_direction,
                  positional_offset_rand, positional_override_const, positional_override_rand,
                  positional_swap_rand, project_xy, select_attackers, timestamp_parts)
from .pipeline import Pipeline, PipelineConfig, PipelineResult, output_parts

__all__ = [
    "ATTACKS", "BSM_TIME_FORMAT", "DEFAULT_COLUMNS", "DEFAULT_POOL_SIZE", "STREAMS",
    "TIMESTAMP_PARTS", "DonorPool", "Pipeline", "PipelineConfig", "PipelineResult",
    "add_attackers", "clean", "filter_date_range", "filter_radius", "filter_xy_range",
    "hex_to_int", "id_keys", "meta", "output_parts", "parse_point", "positional_offset_const",
    "positional_offset_const_per_id_with_random_direction", "positional_offset_rand",
    "positional_override_const", "positional_override_rand", "positional_swap_rand",
    "project_xy", "select_attackers", "timestamp_parts",
]
