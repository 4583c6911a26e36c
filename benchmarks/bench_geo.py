"""Run the blockops.geo benchmark: same as ``python -m blockops bench geo``.

Usage: python benchmarks/bench_geo.py [--n 1000000] [--markdown benchmarks/RESULTS.md]
(see --help). The benchmark itself lives in blockops._bench.geo.
"""

import sys

from blockops._bench.geo import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
