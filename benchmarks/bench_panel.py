"""The sidebar in a real JupyterLab and headless Chromium over a store of 100,000 runs.

    python benchmarks/bench_panel.py [--runs 100000]

- time to first rows: from the "Open jupyter-mlops" command to the first rows of the runs
  table on screen (target < 500 ms, median of 5 fresh pages), against the bare REST call for
  the same page made from the same page (the baseline: what the panel adds is the ratio);
- paging to row 50,000 (the table pages rather than scrolls): the time until those rows show,
  and the longest main-thread stall meanwhile (Chromium's long tasks; target: none > 100 ms).

Uses Debian's /usr/bin/chromium through Playwright and the store of bench_server (cached).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from report import print_table, result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROWS = ".jp-mlops-run-row"

# Opens the panel and resolves with the ms until its first rows are in the DOM and painted.
FIRST_ROWS_JS = """async () => {
  if (document.querySelector('.jp-mlops-run-row')) { throw new Error('rows before opening'); }
  const t0 = performance.now();
  await window.jupyterapp.commands.execute('jupyter-mlops:open');
  while (!document.querySelector('.jp-mlops-run-row')) {
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(r));
  return performance.now() - t0;
}"""

API_JS = """async (url) => {
  const t0 = performance.now();
  const r = await fetch(url);
  await r.json();
  return performance.now() - t0;
}"""

# Pages to row N; resolves with [ms until it shows, longest long task in ms meanwhile].
PAGE_TO_ROW_JS = """async (row) => {
  const tasks = [];
  const obs = new PerformanceObserver(l => tasks.push(...l.getEntries().map(e => e.duration)));
  obs.observe({ type: 'longtask', buffered: false });
  const input = document.querySelector('input[aria-label="Go to row"]');
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  const t0 = performance.now();
  setter.call(input, String(row));
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.form.requestSubmit();
  const want = `rows ${row}–`;
  while (!document.querySelector('.jp-mlops-range')?.textContent?.startsWith(want)) {
    await new Promise(r => requestAnimationFrame(r));
  }
  await new Promise(r => requestAnimationFrame(r));
  const ms = performance.now() - t0;
  await new Promise(r => setTimeout(r, 50));
  obs.disconnect();
  return [ms, Math.max(0, ...tasks)];
}"""


def run(runs: int = 100_000, repeats: int = 5) -> list[dict[str, Any]]:
    from bench_server import _store
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TOKEN, start_lab
    from tests.processes import stop_process

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    store = _store(runs)
    tmp = Path(tempfile.mkdtemp(prefix="bench-panel-"))
    proc, url = start_lab(tmp, tmp, {"JUPYTER_MLOPS_STORE": str(store)})
    first, api, page_ms, stalls = [], [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            for _ in range(repeats + 1):  # the first page warms caches; not counted
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{url}lab?reset&token={TOKEN}")  # no restored panel
                page.wait_for_selector("#jupyter-mlops-panel", state="attached", timeout=60_000)
                page.wait_for_selector(".jp-LauncherCard", timeout=60_000)
                first.append(page.evaluate(FIRST_ROWS_JS))
                api.append(
                    page.evaluate(
                        API_JS,
                        f"{url}jupyter-mlops/api/runs?order_by=-started&limit=50&token={TOKEN}",
                    )
                )
                ms, stall = page.evaluate(PAGE_TO_ROW_JS, 50_001)
                assert page.locator(ROWS).count() == 50
                page_ms.append(ms)
                stalls.append(stall)
                page.close()
            browser.close()
    finally:
        stop_process(proc, timeout=20)
    first, api, page_ms, stalls = first[1:], api[1:], page_ms[1:], stalls[1:]
    t_first, t_api = statistics.median(first), statistics.median(api)
    t_page, worst = statistics.median(page_ms), max(stalls)
    return [
        result(
            f"Sidebar: open to first rows, {runs:,} runs",
            t_first,
            "ms",
            t_api,
            "< 500 ms",
            t_first < 500,
            f"bare REST call for the page {t_api:.0f} ms (baseline)",
        ),
        result(
            f"Sidebar: page to row 50,001 of {runs:,}",
            t_page,
            "ms",
            t_api,
            "no stall > 100 ms",
            worst <= 100,
            f"longest main-thread task {worst:.0f} ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    print_table(run(args.runs))


if __name__ == "__main__":
    main()
