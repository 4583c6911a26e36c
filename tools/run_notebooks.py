"""Execute the example notebooks and store their outputs (what the docs site shows).

    PYTHONPATH=python python tools/run_notebooks.py            # all of docs/examples/
    PYTHONPATH=python python tools/run_notebooks.py v2x ray    # by name

Each notebook runs in a fresh kernel of this interpreter (``tests/nb_util.py``, the same code
CI's ``tests/test_notebooks.py`` runs); the executed notebook replaces the file and the wall
time is printed. The docs build never executes notebooks: what it renders is what ran here.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests"))
import nb_util  # noqa: E402


def main(argv: list[str]) -> int:
    import nbformat

    paths = nb_util.notebooks()
    if argv:
        want = {a.removesuffix(".ipynb") for a in argv}
        paths = [p for p in paths if os.path.basename(p)[:-6] in want]
        if len(paths) != len(want):
            print(f"unknown notebook among {sorted(want)}", file=sys.stderr)
            return 2
    for p in paths:
        nb, seconds = nb_util.execute(p)
        nbformat.write(nb, p)
        print(f"{os.path.relpath(p)}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
