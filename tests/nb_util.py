"""Execute the example notebooks (``docs/examples/*.ipynb``) in a real Jupyter kernel.

Used by ``tests/test_notebooks.py`` (so the README's test command, and CI, run every notebook)
and by ``tools/run_notebooks.py``, which writes the executed outputs back into the notebooks
(the outputs the docs site shows: it does not execute them itself).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "docs", "examples")
#: Seconds a cell may run. Each notebook is meant to finish in well under 30 s; a cell that
#: takes minutes is a hang (a cluster that does not start), not a slow machine.
CELL_TIMEOUT = 180
KERNEL_NAME = "blockops-examples"


def notebooks() -> list[str]:
    """The example notebooks, sorted by name."""
    return sorted(os.path.join(EXAMPLES, n) for n in os.listdir(EXAMPLES)
                  if n.endswith(".ipynb"))


def _kernel_dir(tmp: str) -> str:
    """A kernel spec running *this* interpreter. The "python3" spec found on the Jupyter path
    may belong to another Python (ipykernel's installed kernel.json says ``"python"``, which
    resolves through PATH), and then the notebooks would test another environment."""
    d = os.path.join(tmp, KERNEL_NAME)
    os.makedirs(d)
    with open(os.path.join(d, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": f"Python {sys.version_info[0]}.{sys.version_info[1]}",
                   "language": "python"}, f)
    return tmp


def execute(path: str, *, timeout: int = CELL_TIMEOUT):
    """Run every cell of the notebook at ``path`` in a fresh kernel, in its own directory.

    Returns ``(notebook, seconds)``: the executed :class:`nbformat.NotebookNode` (outputs
    filled in; the file is not written) and the wall time from kernel start to the end.
    Raises :class:`nbclient.exceptions.CellExecutionError` naming the cell that failed.
    """
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="blockops-nb-") as tmp:
        # IPC (Unix sockets in the temporary directory) rather than TCP on localhost: no
        # ports to collide with other test processes, and nothing listening on the network
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                                connection_file=os.path.join(tmp, "kernel.json"),
                                kernel_spec_manager=KernelSpecManager(
                                    kernel_dirs=[_kernel_dir(tmp)]))
        # coalesce_streams: a text progress bar redraws itself with "\r"; keep its last state
        # instead of every redraw (what a notebook front end shows too)
        client = NotebookClient(nb, km=km, timeout=timeout, coalesce_streams=True,
                                resources={"metadata": {"path": os.path.dirname(path)}})
        t0 = time.perf_counter()
        client.execute(cleanup_kc=True)
        seconds = time.perf_counter() - t0
    # the notebooks keep the standard kernel name, so that Jupyter opens them as usual
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    return nb, seconds
