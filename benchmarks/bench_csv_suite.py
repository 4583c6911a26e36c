"""Run the CSV benchmark suite: same as ``python -m blockops bench csv-suite``.

Usage: python benchmarks/bench_csv_suite.py [--size 30MB,600MB] [--shapes ...] [--peers ...]
[--markdown FILE] (see --help and benchmarks/README.md). The suite lives in
blockops._bench.csv_suite (shapes in csv_shapes, the check in csv_check, blockops' tokenizer
and converter breakdown in csv_kernels).
"""

import sys

from blockops._bench.csv_suite import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
