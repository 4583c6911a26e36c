"""Sphinx configuration of the blockops docs site.

Build (what .ci/run does, after the tests, in the same environment):

    pip install -r docs/requirements.txt
    sphinx-build -W --keep-going -b html docs build/docs-html

The API reference comes from the numpydoc docstrings (autodoc imports the installed package),
the guides are the Markdown files in this directory (MyST), and the example notebooks are
rendered with the outputs stored in them: the docs build never executes them (CI runs them in
tests/test_notebooks.py; tools/run_notebooks.py refreshes the stored outputs).
"""
from __future__ import annotations

import blockops

project = "blockops"
author = "blockops contributors"
copyright = "blockops contributors"
release = version = blockops.__version__

extensions = [
    "sphinx.ext.autodoc",
    "numpydoc",
    "myst_nb",  # Markdown (MyST, through myst-parser) and .ipynb pages
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# the API pages are reStructuredText: autodoc writes reST, which a Markdown page would parse as
# Markdown (a docstring's "::" literal block became indented text)
exclude_patterns = ["_build", "**.ipynb_checkpoints", "requirements.txt"]
root_doc = "index"

# -- API reference -------------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"        # the numpydoc Parameters sections say the types
numpydoc_show_class_members = False  # autodoc lists the members; no autosummary stubs
numpydoc_class_members_toctree = False

# -- Markdown and notebooks ----------------------------------------------------------------
myst_heading_anchors = 3          # [text](#a-heading) links within the guides
nb_execution_mode = "off"         # rendered as committed; CI executes them in the tests
nb_merge_streams = True           # a text progress bar's redraws -> its last state

# -- HTML ----------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"blockops {release}"
html_static_path = ["_static"]
html_css_files = ["blockops.css"]
