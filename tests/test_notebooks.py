"""The example notebooks (docs/examples/*.ipynb) run to the end in a real Jupyter kernel.

Each notebook runs in a fresh ipykernel of this interpreter (``tests/nb_util.py``), in its own
directory, on small data (seconds each); the notebooks check their own claims with asserts
(the same rows and attackers as the original code, labels identical to the one-pass labels,
averages byte for byte as the original tool's), so a cell that raises fails here with the
cell's traceback. The committed notebooks hold the outputs of a real run (the docs site shows
them as they are): they must be executed top to bottom with no error stored.
"""
from __future__ import annotations

import importlib.util
import os

import nb_util
import pytest

pytest.importorskip("nbclient", reason="the test extra installs nbclient")
pytest.importorskip("ipykernel", reason="the test extra installs ipykernel")
import nbformat  # noqa: E402

NOTEBOOKS = nb_util.notebooks()
# What a notebook needs beyond blockops' core dependencies. All of it is in the test extra,
# but Ray has no wheels for some Pythons: a notebook whose engine cannot be imported here is
# skipped and says why, rather than failing on the import.
NEEDS = {"dask.ipynb": ["dask", "distributed"], "ray.ipynb": ["ray"],
         "v2x.ipynb": ["sklearn"]}


def _name(path: str) -> str:
    return os.path.basename(path)


def test_every_example_is_collected():
    """The five notebooks the docs link to exist (a renamed one must not silently drop out)."""
    assert sorted(map(_name, NOTEBOOKS)) == ["dask.ipynb", "labels.ipynb", "ray.ipynb",
                                            "reports.ipynb", "v2x.ipynb"]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_committed_notebook_holds_one_clean_run(path):
    """Executed top to bottom in one kernel (execution counts 1, 2, ...), outputs stored, no
    error among them."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), \
        f"{_name(path)}: not executed top to bottom (run tools/run_notebooks.py)"
    # every step of these examples shows its result, so an empty cell was not run (or the
    # outputs were stripped)
    empty = [i for i, c in enumerate(cells) if not c.outputs]
    assert not empty, f"{_name(path)}: code cells {empty} have no stored output"
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{_name(path)}: stored error {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_executes(path):
    missing = [m for m in NEEDS.get(_name(path), []) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{_name(path)} needs {', '.join(missing)}, not installed for this Python")
    nb, _seconds = nb_util.execute(path)  # raises CellExecutionError naming the failing cell
    committed = nbformat.read(path, as_version=4)
    fresh, stored = _code_cells(nb), _code_cells(committed)
    assert len(fresh) == len(stored)
    for i, (f, s) in enumerate(zip(fresh, stored)):
        # the stored run shows what the code shows now: a cell ending in an expression has a
        # result in both, a cell that displays nothing has no output in either
        assert _has_result(f) == _has_result(s), f"{_name(path)} code cell {i}: result"
        assert bool(f.outputs) == bool(s.outputs), f"{_name(path)} code cell {i}: outputs"


def _has_result(cell) -> bool:
    return any(o.output_type == "execute_result" for o in cell.outputs)
