"""The documentation under docs/: its Python examples run, and it builds without a warning.

Every ```` ```python ```` block of a page runs, in order, in one namespace per page, in the
test's empty working directory with its own store (the ``isolated_store`` fixture); notebook-
only code is fenced ```` ```ipython ```` and shell ```` ```bash ````, which sybil does not run.
The build is the CI's docs build: ``sphinx-build -W`` (warnings are errors) into tmp_path.

Sybil is driven from a test here rather than through its pytest plugin in a ``docs/conftest.py``:
pytest collects only ``tests/``, and this way the examples get the suite's own fixtures (an
isolated store and working directory, the check that nothing is left running).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser

from tests.conftest import ROOT, python_env

DOCS = ROOT / "docs"
SYBIL = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()], patterns=["*.md"], path="../docs")
PAGES = sorted(p for p in DOCS.rglob("*.md") if list(SYBIL.parse(p).examples()))


def test_some_pages_have_examples() -> None:
    assert len(PAGES) >= 3, PAGES  # a parser that found nothing would pass every page below


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page: Path, isolated_store: Path) -> None:
    document = SYBIL.parse(page)
    try:
        for example in document.examples():
            example.evaluate()
    finally:
        import jupyter_mlops as mlops

        mlops.flush()


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        env={**python_env(), "PYTHONDONTWRITEBYTECODE": "1"},  # nothing written into docs/_ext
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-5000:]
    # The REST table is generated from the route table: every route is on the page.
    html = (tmp_path / "html" / "reference" / "rest.html").read_text()
    listed = rest_routes()
    assert len(listed) > 10
    for route in listed:
        assert (
            f'<code class="docutils literal notranslate"><span class="pre">{route["path"]}</span>'
            in html
        ), route
    cli = (tmp_path / "html" / "reference" / "cli.html").read_text()
    for command in ("promote", "sweep", "scheduler", "reproduce", "monitor"):
        assert f'id="{command}"' in cli or f">{command}<" in cli, command


def rest_routes() -> list[dict[str, object]]:
    """The rows the docs' ``mlops-routes`` directive renders (docs/_ext/mlops_rest.py)."""
    spec = importlib.util.spec_from_file_location("mlops_rest", DOCS / "_ext" / "mlops_rest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.routes()
