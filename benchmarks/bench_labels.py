"""Run the blockops.labels benchmark: same as ``python -m blockops bench labels``.

Usage: python benchmarks/bench_labels.py [--rows 517000,10000000] [--markdown benchmarks/RESULTS.md]
(see --help). The benchmark itself lives in blockops._bench.labels.
"""

import sys

from blockops._bench.labels import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
