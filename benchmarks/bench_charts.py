"""Charting libraries for the panel, measured on one curve of 100,000 points in headless Chromium.

    python benchmarks/bench_charts.py [--points 100000] [--repeats 5]

For each candidate (ECharts as the panel draws with it: LTTB sampling over a flat typed array,
and the same with [x, y] pairs; uPlot; Vega-Lite through vega-embed), on a fresh page: the time
from handing the data to the library until the curve is painted (the chart made, then two
animation frames), median of ``--repeats`` fresh charts after one warm-up; and the size of the
library's minified bundle, raw and gzipped. The ratios are against uPlot, measured in the same
run. Target: < 200 ms for the library the panel uses (ECharts). The libraries come from
labextension/node_modules (``jlpm install``).

Uses Debian's /usr/bin/chromium through Playwright.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from report import print_table, result

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
MODULES = ROOT / "labextension" / "node_modules"
TARGET_MS = 200.0
CHOSEN = "echarts"  # what the panel draws with; the target applies to it

# name -> (bundle files, in load order; the drawing function, given the div and the data)
CANDIDATES: dict[str, tuple[tuple[str, ...], str]] = {
    # As the panel draws it (src/charts/options.ts): x, y interleaved in one Float64Array.
    "echarts": (
        ("echarts/dist/echarts.min.js",),
        """(div, xs, ys) => {
          const chart = echarts.init(div, null, { renderer: 'canvas' });
          const flat = new Float64Array(xs.length * 2);
          for (let i = 0; i < xs.length; i++) { flat[2 * i] = xs[i]; flat[2 * i + 1] = ys[i]; }
          chart.setOption({
            animation: false, grid: { left: 50, right: 10, top: 10, bottom: 30 },
            tooltip: { trigger: 'axis' }, dataZoom: [{ type: 'inside' }],
            xAxis: { type: 'value', min: 'dataMin', max: 'dataMax' }, yAxis: { type: 'value' },
            series: [{ type: 'line', showSymbol: false, sampling: 'lttb',
                       dimensions: ['x', 'y'], data: flat }]
          });
        }""",
    ),
    # The same chart with the data as [x, y] pairs, as ECharts' examples write it.
    "echarts-pairs": (
        ("echarts/dist/echarts.min.js",),
        """(div, xs, ys) => {
          const chart = echarts.init(div, null, { renderer: 'canvas' });
          chart.setOption({
            animation: false, grid: { left: 50, right: 10, top: 10, bottom: 30 },
            tooltip: { trigger: 'axis' }, dataZoom: [{ type: 'inside' }],
            xAxis: { type: 'value', min: 'dataMin', max: 'dataMax' }, yAxis: { type: 'value' },
            series: [{ type: 'line', showSymbol: false, sampling: 'lttb',
                       data: xs.map((x, i) => [x, ys[i]]) }]
          });
        }""",
    ),
    "uplot": (
        ("uplot/dist/uPlot.iife.min.js",),
        """(div, xs, ys) => {
          new uPlot({ width: 800, height: 300, scales: { x: { time: false } },
                      series: [{}, { stroke: 'blue' }] }, [xs, ys], div);
        }""",
    ),
    "vega-lite": (
        (
            "vega/build/vega.min.js",
            "vega-lite/build/vega-lite.min.js",
            "vega-embed/build/vega-embed.min.js",
        ),
        """(div, xs, ys) => vegaEmbed(div, {
            $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
            width: 800, height: 300, data: { values: xs.map((x, i) => ({ x, y: ys[i] })) },
            mark: 'line',
            encoding: { x: { field: 'x', type: 'quantitative' },
                        y: { field: 'y', type: 'quantitative' } }
          }, { renderer: 'canvas', actions: false })""",
    ),
}

# Resolves with the ms from the call to the curve painted, for a new chart in a new div.
DRAW_JS = """async ([n, draw]) => {
  const fn = eval(draw);
  let seed = 1;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const xs = new Float64Array(n), ys = new Float64Array(n);
  for (let i = 0; i < n; i++) { xs[i] = i; ys[i] = Math.exp(-i / n * 3) + 0.05 * rand(); }
  const xa = Array.from(xs), ya = Array.from(ys);
  const div = document.createElement('div');
  div.style.width = '800px'; div.style.height = '300px';
  document.body.replaceChildren(div);
  const t0 = performance.now();
  await fn(div, xa, ya);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""


def bundle_size(files: tuple[str, ...]) -> tuple[int, int]:
    """Bytes of the minified files, raw and gzipped (level 9)."""
    data = [(MODULES / f).read_bytes() for f in files]
    return sum(map(len, data)), sum(len(gzip.compress(d, 9)) for d in data)


def measure(points: int, repeats: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    times: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for name, (files, draw) in CANDIDATES.items():
                page = browser.new_page(viewport={"width": 1000, "height": 600})
                page.set_content("<html><body></body></html>")
                for f in files:
                    page.add_script_tag(path=str(MODULES / f))
                page.evaluate(DRAW_JS, [points, draw])  # warm-up: JIT, fonts
                times[name] = [page.evaluate(DRAW_JS, [points, draw]) for _ in range(repeats)]
                page.close()
        finally:
            browser.close()
    return times


def run(points: int = 100_000, repeats: int = 5) -> list[dict[str, Any]]:
    missing = [f for files, _ in CANDIDATES.values() for f in files if not (MODULES / f).exists()]
    if missing:
        raise RuntimeError(f"{missing[0]} is missing: cd labextension && jlpm install")
    times = measure(points, repeats)
    base = statistics.median(times["uplot"])
    rows = []
    for name, (files, _) in CANDIDATES.items():
        ms = statistics.median(times[name])
        raw, gz = bundle_size(files)
        rows.append(
            result(
                f"draw {points:,} points: {name}",
                ms,
                "ms",
                base,
                f"< {TARGET_MS:.0f} ms" if name == CHOSEN else "—",
                ms < TARGET_MS if name == CHOSEN else None,  # the others: for comparison
                f"bundle {raw / 1e3:,.0f} kB, {gz / 1e3:,.0f} kB gzipped; ratio vs uplot",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print_table(run(args.points, args.repeats))
    # The machine is shared: say how busy it was, since every figure scales with it.
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
