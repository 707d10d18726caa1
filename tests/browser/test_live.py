"""The panel follows the store: runs recorded elsewhere appear in the open panel with no reload
(pushed by the server's GET events), the Refresh button reloads, and a failed load says what
happened and recovers with Retry. (The latency, under 2 s, is benchmarks/bench_first_open.py's.)"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import python_env

from .conftest import Lab, shot

pytestmark = pytest.mark.slow

ROWS = ".jp-mlops-run-row"
RECORD_RUN = (
    "import sys, jupyter_mlops as mlops\n"
    "with mlops.start_run(experiment='live', name=sys.argv[1], seed=None) as r:\n"
    "    r.log_metric('acc', 0.75)\n"
    "print(r.id)\n"
)


def record_run(lab: Lab, name: str) -> str:
    """A run recorded by another process, in the lab's store; its id."""
    env = {**python_env(), "JUPYTER_MLOPS_STORE": str(lab.root / ".mlops")}
    out = subprocess.run(
        [sys.executable, "-c", RECORD_RUN, name],
        capture_output=True,
        text=True,
        env=env,
        cwd=lab.root,
        timeout=300,
        check=True,
    )
    return out.stdout.strip()


def test_a_run_recorded_elsewhere_appears_without_a_reload(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    page.evaluate("() => { window.__sameDocument = true; }")
    # The live stream is open once the panel shows (the server sends its hello at once).
    page.locator(".jp-mlops-refresh[data-live='on']").wait_for()
    run_id = record_run(lab, "pushed-run")
    row = page.locator(f"{ROWS}[data-run-id='{run_id}']")
    row.wait_for(timeout=60_000)
    assert "pushed-run" in row.inner_text()
    assert page.evaluate("() => window.__sameDocument === true")  # no page reload
    shot(page, "live-run-appeared")


def test_the_refresh_button_reloads_the_view(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    button = page.get_by_role("button", name="Refresh")
    assert button.count() == 1 and button.is_visible()
    with page.expect_request(lambda r: "/jupyter-mlops/api/runs?" in r.url):
        button.click()
    # Switching tabs reloads the view shown again as well.
    page.locator(".jp-mlops-tab", has_text="Models").click()
    with page.expect_request(lambda r: "/jupyter-mlops/api/runs?" in r.url):
        page.locator(".jp-mlops-tab", has_text="Runs").click()


def test_a_failed_load_says_why_and_retry_recovers(page: Any, lab: Lab) -> None:
    page.locator(ROWS).first.wait_for()
    # The server unreachable for the runs view's calls (as when it was stopped).
    page.route("**/jupyter-mlops/api/runs?*", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name="Refresh").click()
    error = page.locator(".jp-mlops-error", has_text="Cannot reach the Jupyter server")
    error.wait_for()
    assert "Failed to fetch" not in error.inner_text()
    shot(page, "live-error-retry")
    page.unroute("**/jupyter-mlops/api/runs?*")
    with page.expect_response(lambda r: "/jupyter-mlops/api/runs?" in r.url and r.ok):
        error.get_by_role("button", name="Retry").click()
    error.wait_for(state="detached")
    assert page.locator(ROWS).count() > 0
