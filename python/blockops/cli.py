"""Command line: ``python -m blockops info`` and ``python -m blockops bench <name>``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m blockops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print version, compiler, OpenMP, SIMD and thread configuration")
    bench = sub.add_parser("bench", help="run a side-by-side benchmark", add_help=False)
    bench.add_argument("name", choices=["geo"], help="which benchmark")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options passed to the benchmark")
    args = parser.parse_args(argv)

    if args.command == "info":
        from . import show_config

        show_config()
        return 0
    if args.command == "bench":
        if args.name == "geo":
            from ._bench import geo

            return int(geo.main(args.rest) or 0)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2
