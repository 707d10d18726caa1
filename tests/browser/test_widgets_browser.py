"""The notebook widgets in a real JupyterLab and Chromium: ``%mlops runs`` renders the grid,
a header click sorts it, checked rows reach compare's SVG charts, the widget reads in the dark
theme (axe: no contrast violation), and a saved notebook whose widget model is gone shows the
static HTML version instead of "Error displaying widget: model not found"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.browser.conftest import TOKEN, shot, start_lab
from tests.notebook_files import python_notebook, write_python_notebook
from tests.processes import stop_process

GRID = ".jm-runs table"


@pytest.fixture(scope="module")
def lab_with_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list]]:
    """Lab over a project of five runs, a notebook that shows them, and that notebook saved
    after running it in a kernel that is gone (no widget state: JupyterLab's default), as is
    and trusted (signed in the lab's own data directory, as ``jupyter trust`` does)."""
    import jupyter_mlops as mlops
    from tests.server.conftest import building_in

    root = tmp_path_factory.mktemp("widgets")
    data = tmp_path_factory.mktemp("jupyter-data")  # the notary's secret and signatures
    names = []
    with building_in(root):
        for i in range(5):
            acc = 0.5 + 0.1 * ((i * 2) % 5)  # not in start order
            with mlops.start_run(experiment="w", name=f"run{i}", seed=None) as run:
                run.log_params({"C": 10.0**i})
                for step in range(3):
                    run.log_metric("loss", (i + 1) / (step + 1), step=step)
                run.log_metric("acc", acc)
            names.append((f"run{i}", acc))
        write_python_notebook(root / "grid.ipynb", "%load_ext jupyter_mlops\n%mlops runs -e w")
        saved = python_notebook("%load_ext jupyter_mlops\n%mlops runs -e w")
        NotebookClient(
            saved, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(root)}}
        ).execute()
        # nbclient stores the widget state; JupyterLab by default does not.
        del saved.metadata["widgets"]
        nbformat.write(saved, root / "saved.ipynb")  # unsigned, no widget state
        # A signature is of the content, not the path: the trusted copy must differ.
        saved.cells.insert(0, nbformat.v4.new_markdown_cell("The trusted copy"))
        nbformat.write(saved, root / "trusted.ipynb")
        _trust(root / "trusted.ipynb", data)
    lab = tmp_path_factory.mktemp("lab")
    proc, url = start_lab(root, lab, extra_env={"JUPYTER_DATA_DIR": str(data)})
    try:
        yield url, root, names
    finally:
        stop_process(proc, timeout=20)


def _trust(path: Path, data_dir: Path) -> None:
    """Sign ``path`` as ``jupyter trust`` does, into ``data_dir`` (not the user's own)."""
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(data_dir=str(data_dir))
    nb = nbformat.read(path, as_version=4)
    notary.sign(nb)
    assert notary.check_signature(nb)
    notary.store.close()


@pytest.fixture
def page(browser: Any, lab_with_runs: tuple[str, Path, list]) -> Iterator[Any]:
    url = lab_with_runs[0]
    p = browser.new_page(viewport={"width": 1400, "height": 1000})
    p.set_default_timeout(90_000)  # kernels start slowly on a loaded machine
    p.goto(f"{url}lab?token={TOKEN}")
    p.wait_for_function("() => window.jupyterapp !== undefined")
    p.evaluate("() => window.jupyterapp.restored")
    yield p
    p.close()
    _shut_down_kernels(url)


def _shut_down_kernels(url: str) -> None:
    """Each test's kernels end with it (the REST API, as the Running panel does)."""
    import json
    import urllib.request

    auth = {"Authorization": f"token {TOKEN}"}
    with urllib.request.urlopen(urllib.request.Request(f"{url}api/kernels", headers=auth)) as r:
        kernels = json.loads(r.read())
    for k in kernels:
        req = urllib.request.Request(f"{url}api/kernels/{k['id']}", method="DELETE", headers=auth)
        urllib.request.urlopen(req, timeout=60).close()


def _open(page: Any, path: str) -> Any:
    """Open the notebook ``path``; its panel (the workspace may reopen other notebooks)."""
    page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', {path})", path)
    panel = page.wait_for_function(
        """path => {
          const nb = Array.from(window.jupyterapp.shell.widgets('main'))
            .find(w => w.context?.path === path);
          return nb?.context.isReady ? nb.id : null;
        }""",
        arg=path,
    )
    return page.locator(f"[id='{panel.json_value()}']")


def test_grid_sorts_and_compares_in_lab(page: Any, lab_with_runs: tuple[str, Path, list]) -> None:
    names = lab_with_runs[2]
    _open(page, "grid.ipynb")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel"
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    rows = page.locator(f"{GRID} tbody tr")
    rows.nth(4).wait_for()
    assert rows.count() == 5
    acc = page.locator(f"{GRID} th[scope=col]", has_text="acc")
    assert acc.get_attribute("aria-sort") == "none"
    acc.get_by_role("button").click()
    page.wait_for_selector(f'{GRID} th[aria-sort="descending"] >> text=acc')
    best_first = [n for n, _ in sorted(names, key=lambda x: -x[1])]
    page.wait_for_function(
        "first => document.querySelector('.jm-runs tbody th.jm-name').textContent === first",
        arg=best_first[0],
    )
    shown = page.locator(f"{GRID} tbody th.jm-name").all_text_contents()
    assert shown == best_first
    page.get_by_role("checkbox", name=f"Select run {best_first[0]}").check()
    page.get_by_role("checkbox", name=f"Select run {best_first[1]}").check()
    page.get_by_role("button", name="Compare 2").click()
    charts = page.locator(".jm-compare svg.jm-chart")
    charts.nth(1).wait_for()
    labels = charts.first.get_attribute("aria-label")
    assert labels == "loss by step, one line per run"
    assert charts.first.locator("path.jm-line").count() == 2
    assert page.locator(".jm-compare .jm-legend li").all_text_contents() == best_first[:2]
    for theme in THEMES:
        _in_theme(page, theme)
        bad = _axe_blocking(page)
        assert not bad, (theme, [(v["id"], [n["target"] for n in v["nodes"]]) for v in bad])
        shot(page, f"widget-grid-compare-{theme.split(' ', 1)[1].lower().replace(' ', '-')}")
    _in_theme(page, THEMES[0])


THEMES = ("JupyterLab Light", "JupyterLab Dark", "JupyterLab Dark High Contrast")


def _in_theme(page: Any, theme: str) -> None:
    page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function("theme => document.body.dataset.jpThemeName === theme", arg=theme)


def _axe_blocking(page: Any) -> list[dict[str, Any]]:
    """axe-core's contrast findings, and anything serious or critical, in the widgets."""
    from axe_playwright_python.sync_playwright import Axe

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(Axe().axe_script)
    found = page.evaluate(
        "() => axe.run({include: [['.jm-widget']]}, {resultTypes: ['violations']})"
        ".then(r => r.violations)"
    )
    return [
        v for v in found if v["id"] == "color-contrast" or v["impact"] in ("serious", "critical")
    ]


def _trusted(page: Any, path: str) -> bool:
    """Whether Lab holds every code cell of the open notebook ``path`` trusted."""
    return page.evaluate(
        """path => Array.from(window.jupyterapp.shell.widgets('main'))
          .find(w => w.context?.path === path).content.widgets
          .filter(c => c.model.type === 'code').every(c => c.model.trusted)""",
        path,
    )


def test_saved_notebook_shows_the_static_table_when_the_model_is_gone(page: Any) -> None:
    panel = _open(page, "saved.ipynb")
    assert not _trusted(page, "saved.ipynb")
    table = panel.locator(".jp-OutputArea-output table")
    table.wait_for()
    assert panel.locator(".jm-widget-fallback").count() == 0  # Lab's own HTML renderer
    assert table.locator("tbody tr").count() == 5
    assert "run4" in table.inner_text()
    assert page.get_by_text("Error displaying widget").count() == 0
    shot(page, "widget-saved-fallback")


def test_trusted_notebook_shows_the_static_table_where_the_model_is_gone(page: Any) -> None:
    """Trusted, the output's widget view wins over its HTML in Lab, and ipywidgets finds no
    model once the fresh kernel's manager restored: the extension shows the HTML instead."""
    panel = _open(page, "trusted.ipynb")
    assert _trusted(page, "trusted.ipynb")
    table = panel.locator(".jp-OutputArea-output .jm-widget-fallback table")
    table.wait_for()
    assert table.locator("tbody tr").count() == 5
    assert "run4" in table.inner_text()
    # The fallback sits where ipywidgets' renderer wrote its error, and the error is gone.
    assert panel.locator(".jp-OutputArea-output.jupyter-widgets").count() == 0
    assert panel.get_by_text("Error displaying widget").count() == 0
    shot(page, "widget-trusted-fallback")
