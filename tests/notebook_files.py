"""Small notebooks written by the tests themselves, on the python3 kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat


def python_notebook(*sources: str, parameters: str | None = None) -> nbformat.NotebookNode:
    """A notebook of code cells ``sources``, after a ``parameters``-tagged cell if given."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    if parameters is not None:
        params = nbformat.v4.new_code_cell(parameters)
        params.metadata["tags"] = ["parameters"]
        cells.insert(0, params)
    nb.cells = cells
    return nb


def write_python_notebook(path: Path, *sources: str, parameters: str | None = None) -> Path:
    nbformat.write(python_notebook(*sources, parameters=parameters), path)
    return path
