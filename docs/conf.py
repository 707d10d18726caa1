"""Sphinx configuration: MyST Markdown pages and pydata-sphinx-theme, as the Jupyter projects
build their docs. ``tests/test_docs.py`` builds them with ``-W`` (warnings are errors) and runs
their Python examples with sybil."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # the REST route-table directive
sys.path.insert(0, str(HERE.parent))  # the package from this checkout, installed or not

project = "jupyter-mlops"
author = "jupyter-mlops contributors"
copyright = "2026, jupyter-mlops contributors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
    "mlops_rest",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "conftest.py"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# sphinx-argparse's domain answers no "any" cross-reference; MyST asks every domain and warns.
suppress_warnings = ["myst.domains"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Names imported only for annotations (TYPE_CHECKING) stay strings in the signatures.
autodoc_type_aliases: dict[str, str] = {}

html_theme = "pydata_sphinx_theme"
html_title = "jupyter-mlops"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []
