"""A real ``jupyter lab`` (subprocess) over a project whose store holds real runs and a promoted
pipeline with gates, and a headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright; no browser is ever downloaded) logged into it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port, stop_process

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

try:
    import playwright.sync_api  # noqa: F401

    _missing = None if CHROMIUM.exists() else f"{CHROMIUM} is missing: apt-get install -y chromium"
except ImportError:
    _missing = "playwright is not installed: pip install -e '.[dev]'"

pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")


@dataclass
class Lab:
    url: str  # base URL, ending in /
    token: str
    root: Path
    ids: Any  # tests.server.conftest.Project, plus .changed: the run whose input changed

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        req = urllib.request.Request(
            f"{self.url}jupyter-mlops/api/{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())


TOKEN = "browser-test-token"


def start_lab(root: Path, tmp: Path, extra_env: dict[str, str] | None = None) -> tuple[Any, str]:
    """Start ``jupyter lab`` on a free port with root ``root``; returns (process, base URL)."""
    token = TOKEN
    port = free_port()
    settings = tmp / "lab-settings"
    # No "Jupyter news" toast over the panel.
    notif = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True, exist_ok=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
        "JUPYTER_MLOPS_STORE": str(root / ".mlops"),
        **(extra_env or {}),
    }
    log = (tmp / "lab.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--allow-root",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=str(root),
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240  # a loaded machine starts jupyter lab slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {(tmp / 'lab.log').read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"jupyter lab did not start: {(tmp / 'lab.log').read_text()[-2000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    import jupyter_mlops as mlops
    from jupyter_mlops.pipeline.runner import run_pipeline
    from tests.monitoring.helpers import build_monitored
    from tests.server.conftest import _build, building_in

    root = tmp_path_factory.mktemp("project")
    with building_in(root):
        ids = _build(root)
        # More label noise: the input "train" changes in its column "label" only.
        changed = run_pipeline("train_ok", {"noise": "0.5"}, progress=False, seed=3)
        assert changed.exit_code == 0
        ids.changed = changed.run.id
        # Monitored models (churn: drifted on its last day, a shadow; steady: quiet).
        build_monitored(mlops.default_tracker(), root, steady_in_pipeline=False)
    proc, url = start_lab(root, tmp_path_factory.mktemp("lab"))
    try:
        yield Lab(url, TOKEN, root, ids)
    finally:
        stop_process(proc, timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API runs an event loop in this thread until it stops,
    and pytest-jupyter's async tests after this module need the thread free of it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_lab(browser: Any, url: str, token: str, width: int = 1400, height: int = 900) -> Any:
    """A page on JupyterLab with the jupyter-mlops panel open; waits for its first rows."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)  # the machine may be busy
    page.goto(f"{url}lab?token={token}")
    page.wait_for_selector("#jupyter-mlops-panel", state="attached", timeout=60_000)
    # The layout restorer may still be re-applying the saved workspace (another sidebar tab,
    # a collapsed sidebar): open the panel only once it is done, and see it shown.
    page.evaluate(
        "async () => { await window.jupyterapp.restored;"
        " await window.jupyterapp.commands.execute('jupyter-mlops:open'); }"
    )
    page.wait_for_selector("#jupyter-mlops-panel", state="visible", timeout=60_000)
    widen_sidebar(page, 720)
    return page


def widen_sidebar(page: Any, x: int) -> None:
    """Drag the left sidebar's split handle to ``x`` pixels, as a user would."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(x, box["y"] + 200, steps=4)
    page.mouse.up()


@pytest.fixture
def page(browser: Any, lab: Lab) -> Iterator[Any]:
    p = open_lab(browser, lab.url, lab.token)
    yield p
    p.close()


def shot(page: Any, name: str, element: Any = None) -> Path:
    """Save a PNG of the page (or of one element, a locator) under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    (element or page).screenshot(path=str(path))
    return path


# The three themes JupyterLab 4 ships; the panel must be readable (WCAG AA) in each.
THEMES = ("JupyterLab Light", "JupyterLab Dark", "JupyterLab Dark High Contrast")
PANEL = "#jupyter-mlops-panel"


def set_theme(page: Any, theme: str) -> None:
    """Switch JupyterLab's theme in place and wait until its styles apply.

    A theme change shows the splash while the new theme's CSS loads; JupyterLab names the theme
    on ``<body>`` once it is loaded."""
    if page.evaluate("() => document.body.dataset.jpThemeName") == theme:
        return
    page.evaluate(
        "t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme
    )
    page.wait_for_function("t => document.body.dataset.jpThemeName === t", arg=theme)
    page.wait_for_selector("#jupyterlab-splash", state="detached")
    settle(page)


def settle(page: Any) -> None:
    """Wait for two animation frames: styles and layout caught up with the last change."""
    page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(0))))"
    )


def set_panel_width(page: Any, width: int) -> float:
    """Drag the left sidebar's split handle until the panel is ``width`` px wide (a user's
    drag, so JupyterLab's own layout and minimum apply); returns the width reached."""
    panel = page.locator(PANEL)
    for _ in range(3):  # the handle's travel maps to the width only up to a pixel or two
        box = panel.bounding_box()
        if box is not None and abs(box["width"] - width) <= 1:
            break
        left = box["x"] if box is not None else 0
        widen_sidebar(page, round(left + width))
        settle(page)
    box = panel.bounding_box()
    return box["width"] if box is not None else 0.0


def axe_violations(page: Any, scope: str = PANEL) -> list[dict[str, Any]]:
    """axe-core's WCAG violations inside ``scope`` (a CSS selector), as axe reports them."""
    from axe_playwright_python.sync_playwright import Axe

    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(Axe().axe_script)
    # JupyterLab's <body> is 0 px high with overflow hidden (the shell is positioned absolutely
    # inside it): axe then takes all text in the panel for clipped, so invisible, and checks no
    # contrast at all. Giving it the window's height changes nothing a user sees.
    page.evaluate("() => { document.body.style.minHeight = '100vh'; }")
    result = page.evaluate(
        "scope => axe.run(document.querySelector(scope), {resultTypes: ['violations']})", scope
    )
    # A scan that looked at no text proves nothing: say so rather than report "0 violations".
    checked = {r["id"] for kind in ("passes", "violations", "incomplete") for r in result[kind]}
    assert "color-contrast" in checked, f"axe checked no text contrast in {scope}"
    return result["violations"]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per failing node: rule, impact, target and axe's own explanation."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            why = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"{v['id']} ({v['impact']}) {node['target']}: {why}")
    return "\n".join(lines)
