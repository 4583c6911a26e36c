"""Benchmarks shipped with blockops (``python -m blockops bench NAME``).

Each submodule has ``main(argv: list[str]) -> int``. They compare blockops with
what a user would otherwise use, on the same arrays in one process, and print
times, ratios, agreement with blockops, the machine and the command line.
Peers that are not installed are reported as "not installed".
"""

BENCHMARKS = ("geo", "reports", "csv", "csv-suite", "labels", "v2x")

__all__ = ["BENCHMARKS"]
