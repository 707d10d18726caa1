"""The sidebar's FIRST open after ``jupyter lab`` starts, over a store of 100,000 runs, and how
soon a run recorded elsewhere shows in the open panel.

    python benchmarks/bench_first_open.py [--runs 100000] [--repeats 3]

- first open: a fresh ``jupyter lab`` (a new server process), a fresh page, then the "Open
  jupyter-mlops" command; the time until the first rows of the runs table are painted. Measured
  with the server's prefetch (the store opened and the first runs page computed as the server
  starts) and without it (``c.JupyterMLOps.prefetch = False``: the store opened and the page
  computed on the panel's first request, the path before issue 19), alternately, each on its
  own server; the ratio is prefetched / not prefetched (target: first rows < 500 ms);
- live: with the panel open, a run recorded by another process; the time from that process's
  exit (the run committed) to its row on screen, pushed by ``GET events`` (target < 2 s).

Uses Debian's /usr/bin/chromium through Playwright and the store of bench_server (cached).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report import print_table, result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_panel import FIRST_ROWS_JS  # noqa: E402

# Sets window.__seen: resolves with Date.now() when a row of the runs table holds `name`
# (not returned: evaluate would wait for it).
SEEN_JS = """(name) => { window.__seen = new Promise(resolve => {
  const give_up = Date.now() + 60000;
  const look = () => {
    const rows = [...document.querySelectorAll('.jp-mlops-run-row')];
    if (rows.some(r => r.textContent.includes(name))) { resolve(Date.now()); }
    else if (Date.now() > give_up) { resolve(-1); }
    else { setTimeout(look, 5); }
  };
  look();
}); }"""

RECORD = (
    "import sys, jupyter_mlops as mlops\n"
    "t = mlops.set_store(sys.argv[1])\n"
    "with t.start_run(experiment='live', name=sys.argv[2], seed=None, probe_git=False) as r:\n"
    "    r.log_metric('acc', 0.5)\n"
)


def _first_open(browser: Any, store: Path, prefetch: bool) -> float:
    """ms from the open command to the first rows, on a just-started jupyter lab."""
    from tests.browser.conftest import TOKEN, start_lab
    from tests.processes import stop_process

    tmp = Path(tempfile.mkdtemp(prefix="bench-first-open-"))
    config = tmp / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"JupyterMLOps": {"prefetch": prefetch}})
    )
    env = {"JUPYTER_MLOPS_STORE": str(store), "JUPYTER_CONFIG_DIR": str(config)}
    proc, url = start_lab(tmp, tmp, env)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}lab?reset&token={TOKEN}")  # no restored panel
        page.wait_for_selector("#jupyter-mlops-panel", state="attached", timeout=120_000)
        page.wait_for_selector(".jp-LauncherCard", timeout=120_000)
        ms = float(page.evaluate(FIRST_ROWS_JS))
        page.close()
        print(f"first open, prefetch={prefetch}: {ms:.0f} ms", file=sys.stderr, flush=True)
        return ms
    finally:
        stop_process(proc, timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


def _live(browser: Any, store: Path, repeats: int) -> list[float]:
    """ms from a recording process's exit to the run's row in the open panel."""
    from tests.browser.conftest import TOKEN, start_lab
    from tests.processes import stop_process

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    proc, url = start_lab(tmp, tmp, {"JUPYTER_MLOPS_STORE": str(store)})
    out = []
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}lab?reset&token={TOKEN}")
        page.wait_for_selector(".jp-LauncherCard", timeout=120_000)
        page.evaluate(FIRST_ROWS_JS)
        page.wait_for_selector(".jp-mlops-refresh[data-live='on']", timeout=60_000)
        for i in range(repeats):
            name = f"live-{time.time_ns()}-{i}"
            page.evaluate(SEEN_JS, name)
            subprocess.run([sys.executable, "-c", RECORD, str(store), name], check=True)
            committed = time.time() * 1000
            at = float(page.evaluate("() => window.__seen"))
            if at < 0:
                raise RuntimeError(f"the run {name} did not show within 60 s")
            out.append(at - committed)
            print(f"live: {out[-1]:.0f} ms", file=sys.stderr, flush=True)
        page.close()
    finally:
        stop_process(proc, timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def run(runs: int = 100_000, repeats: int = 3) -> list[dict[str, Any]]:
    from bench_server import _store
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    store = _store(runs)
    warm: list[float] = []
    cold: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        _first_open(browser, store, True)  # the OS's file cache and Chromium's: not counted
        for i in range(repeats):  # alternately, so that load on the machine hits both
            for prefetch in (True, False) if i % 2 == 0 else (False, True):
                (warm if prefetch else cold).append(_first_open(browser, store, prefetch))
        live = _live(browser, store, repeats)
        browser.close()
    t_warm, t_cold, t_live = statistics.median(warm), statistics.median(cold), max(live)
    return [
        result(
            f"Sidebar: FIRST open after Lab starts to first rows, {runs:,} runs",
            t_warm,
            "ms",
            t_cold,
            "< 500 ms",
            t_warm < 500,
            f"without the prefetch {t_cold:.0f} ms; ratio {t_warm / t_cold:.2f} "
            f"(prefetched {', '.join(f'{x:.0f}' for x in warm)}; "
            f"not {', '.join(f'{x:.0f}' for x in cold)})",
        ),
        result(
            f"Sidebar: a run recorded elsewhere to its row in the open panel, {runs:,} runs",
            t_live,
            "ms",
            None,
            "< 2000 ms",
            t_live < 2000,
            f"worst of {len(live)}: {', '.join(f'{x:.0f}' for x in live)} ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print_table(run(args.runs, args.repeats))


if __name__ == "__main__":
    main()
