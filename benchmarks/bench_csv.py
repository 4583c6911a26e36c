"""Run the CSV reader benchmark: same as ``python -m blockops bench csv``.

Usage: python benchmarks/bench_csv.py [--size 1GB] [--repeat 3] [--readers ...]
[--markdown FILE] (see --help). The benchmark itself lives in blockops._bench.csv.
"""

import sys

from blockops._bench.csv import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
