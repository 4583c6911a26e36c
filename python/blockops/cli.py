"""Command line: ``python -m blockops info``, ``plan``, ``bench <name>``, ``synth bsm``,
``demo``, ``v2x run CONFIG`` and ``reports average INPUT --out DIR``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="python -m blockops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print version, compiler, OpenMP, SIMD and thread configuration")
    pl = sub.add_parser("plan", help="print the resource plan (block size, workers, Dask/Ray settings)")
    pl.add_argument("--memory-budget-mb", type=float, default=None)
    pl.add_argument("--n-cpus", type=int, default=None)
    pl.add_argument("--row-bytes", type=int, default=None)
    pl.add_argument("--expansion", type=float, default=None)
    bench = sub.add_parser("bench", help="run a side-by-side benchmark", add_help=False)
    bench.add_argument("name", choices=["geo", "reports", "csv", "csv-suite", "labels", "v2x"],
                       help="which benchmark")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options passed to the benchmark")
    syn = sub.add_parser("synth", help="write a synthetic data set (BSM CSV)")
    syn.add_argument("kind", choices=["bsm"], help="which data set")
    syn.add_argument("--out", required=True, help="output file")
    size = syn.add_mutually_exclusive_group(required=True)
    size.add_argument("--rows", type=int, help="number of data rows")
    size.add_argument("--size", help="target file size, e.g. 1GB (instead of --rows)")
    syn.add_argument("--seed", type=int, default=42)
    syn.add_argument("--vehicles", type=int, default=None)
    syn.add_argument("--null-fraction", type=float, default=0.0)
    syn.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo = sub.add_parser("demo", help="synthesize BSM data and run the whole V2X pipeline")
    demo.add_argument("--rows", type=int, default=2_000_000, help="rows to synthesize")
    demo.add_argument("--out", default="blockops-demo", help="working directory")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--no-classifier", action="store_true", help="skip the classifier stage")
    demo.add_argument("--no-progress", action="store_true", help="no progress bars")
    v2x = sub.add_parser("v2x", help="run a V2X pipeline from a TOML config")
    v2x.add_argument("action", choices=["run"])
    v2x.add_argument("config", help="pipeline TOML file")
    v2x.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep = sub.add_parser("reports", help="average ONE simulator reports as the original tool did")
    rep.add_argument("action", choices=["average"])
    rep.add_argument("input", nargs="+", help="a directory, a glob pattern or report files")
    rep.add_argument("--out", required=True, help="directory for the *_average.txt files")
    rep.add_argument("--by", choices=["ttl", "buffer", "both"], default="both",
                     help="group by (router, ttl), (router, buffer) or both (default)")
    # 2: the original averager left out groups of a single file
    rep.add_argument("--min-files", type=int, default=2, help="smallest group averaged (2)")
    rep.add_argument("--on-error", choices=["raise", "skip", "warn"], default="raise",
                     help="what to do with a malformed report file")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    if args.command == "reports":
        return _reports_average(args)

    if args.command == "demo":
        from .v2x import demo as _demo

        return _demo.main(rows=args.rows, out=args.out, seed=args.seed,
                          classifier=not args.no_classifier, progress=not args.no_progress)
    if args.command == "v2x":
        from .v2x import Pipeline, PipelineConfig

        res = Pipeline(PipelineConfig.from_toml(args.config)).run(progress=not args.no_progress)
        print(res.summary())
        return 0

    if args.command == "info":
        from . import show_config

        show_config()
        return 0
    if args.command == "plan":
        from .resources import ResourceManager, plan

        budget = None if args.memory_budget_mb is None else int(args.memory_budget_mb * 2**20)
        print(plan(memory_budget=budget, n_cpus=args.n_cpus, row_bytes=args.row_bytes,
                   expansion=args.expansion))
        print(repr(ResourceManager().status()))
        return 0
    if args.command == "synth":
        from .synth import write_bsm_csv

        res = write_bsm_csv(args.out, rows=args.rows, nbytes=args.size, seed=args.seed,
                            vehicles=args.vehicles, null_fraction=args.null_fraction,
                            progress=not args.no_progress and args.size is not None)
        print(f"{res.path}: {res.rows:,} rows, {res.nbytes:,} bytes, {res.vehicles:,} vehicles, "
              f"{res.seconds:.2f} s ({res.nbytes / 1e6 / max(res.seconds, 1e-9):.0f} MB/s)")
        return 0
    if args.command == "bench":
        if args.name == "geo":
            from ._bench import geo

            return int(geo.main(args.rest) or 0)
        if args.name == "reports":
            from ._bench import reports

            return int(reports.main(args.rest) or 0)
        if args.name == "csv":
            from ._bench import csv

            return int(csv.main(args.rest) or 0)
        if args.name == "csv-suite":
            from ._bench import csv_suite

            return int(csv_suite.main(args.rest) or 0)
        if args.name == "labels":
            from ._bench import labels

            return int(labels.main(args.rest) or 0)
        if args.name == "v2x":
            from ._bench import v2x as _bv2x

            return int(_bv2x.main(args.rest) or 0)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2


def _reports_average(args) -> int:
    import time

    from .io import read_one_reports, write_averages

    t0 = time.perf_counter()
    source = args.input[0] if len(args.input) == 1 else args.input
    df = read_one_reports(source, on_error=args.on_error, progress=not args.no_progress)
    t_read = time.perf_counter() - t0
    by = {"ttl": [("router", "ttl")], "buffer": [("router", "buffer")],
          "both": [("router", "ttl"), ("router", "buffer")]}[args.by]
    written = write_averages(df, args.out, by=by, min_files=args.min_files)
    print(f"read {len(df):,} report files in {t_read:.2f} s (skipped "
          f"{len(df.attrs['skipped'])}, ignored {len(df.attrs['ignored'])}); wrote "
          f"{len(written):,} averages to {args.out}")
    return 0
