"""Gate results for people: a plain-text table for the CLI and a self-contained HTML report."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from ..codec import dumps
from ..cron import format_duration
from .gates import GateResult, GateStatus

_COLUMNS = ("STATUS", "GATE", "KIND", "OBSERVED", "THRESHOLD", "MESSAGE")
_CAPS = (6, 32, 14, 16, 24, 100)  # widest cell per column; longer text is cut with "…"


def format_observed(value: Any) -> str:
    """A value a gate measured, for people: floats to 4 significant digits, counts with
    thousands separators, containers as compact JSON, None as empty."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (dict, list)):
        return dumps(value, separators=(",", ":"))
    return str(value)


def format_share(value: float) -> str:
    """A share as a percentage: '0%', '4.17%', '100%'."""
    return f"{value * 100:.3g}%"


def observed_text(result: GateResult) -> str:
    """What ``result`` measured in its own unit, the one its threshold speaks: a freshness gate's
    age in seconds as '2d3h' (next to '<= 7d'), a share as a percentage, a float to 4
    significant digits. The CLI's table and the panel (through the run detail) both show this."""
    v = result.observed
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    if number and result.kind == "freshness":
        return f"{format_duration(-v)} in the future" if v < 0 else format_duration(v)
    # The auto drift gate measures the share of columns that drifted.
    share = result.kind == "max_null_share" or (
        result.kind == "drift" and result.threshold.startswith("no column drifts")
    )
    if number and share:
        return format_share(float(v))
    return format_observed(v)


def summarize_results(results: Sequence[GateResult]) -> str:
    """'5 gates: 3 passed, 1 failed, 1 warned' (zero counts left out)."""
    counts = {s: sum(r.status is s for r in results) for s in GateStatus}
    words = {GateStatus.PASS: "passed", GateStatus.FAIL: "failed", GateStatus.WARN: "warned"}
    words[GateStatus.SKIP] = "skipped"
    parts = [f"{counts[s]} {words[s]}" for s in GateStatus if counts[s]]
    noun = "gate" if len(results) == 1 else "gates"
    return f"{len(results)} {noun}: " + (", ".join(parts) if parts else "none")


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())  # one line per row
    return text if len(text) <= width else text[: width - 1] + "…"


def format_gate_table(results: Sequence[GateResult]) -> str:
    """A plain-text table, one row per gate, and a summary line; failures are in capitals."""
    rows = [
        (
            r.status.value.upper() if r.blocking else r.status.value,
            r.gate,
            r.kind,
            observed_text(r),
            r.threshold,
            r.message,
        )
        for r in results
    ]
    cells = [[_cut(c, cap) for c, cap in zip(row, _CAPS, strict=True)] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(_COLUMNS)]
    lines = [_line(_COLUMNS, widths)] + [_line(row, widths) for row in cells]
    return "\n".join([*lines, summarize_results(results)])


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; vertical-align: top;
  border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; }
.pass .badge { background: #dafbe1; color: #1a7f37; }
.fail .badge { background: #ffebe9; color: #cf222e; }
.warn .badge { background: #fff8c5; color: #9a6700; }
.skip .badge { background: #eaeef2; color: #57606a; }
pre { margin: 4px 0 0; font-size: 12px; white-space: pre-wrap; }
code { font-size: 13px; }
table.about { width: auto; margin-bottom: 1em; }
table.about th { background: none; font-weight: 600; padding-left: 0; }
"""


def render_gate_report_html(
    results: Sequence[GateResult],
    title: str = "Gate report",
    context: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """A small self-contained HTML page (inline CSS, no scripts); every value is escaped.

    ``context`` (run, params, model outcome …) is shown above the table, ``notes`` below it.
    """
    esc = html.escape
    body = "\n".join(_html_row(r) for r in results)
    about = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in (context or {}).items()
    )
    about_html = f'<table class="about">{about}</table>\n' if about else ""
    notes_html = "".join(f"<li>{esc(n)}</li>" for n in notes)
    notes_html = f"<ul>{notes_html}</ul>\n" if notes_html else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n{about_html}<p>{esc(summarize_results(results))}</p>\n"
        "<table>\n<thead><tr><th>Status</th><th>Gate</th><th>Kind</th><th>Observed</th>"
        "<th>Threshold</th><th>Message</th></tr></thead>\n"
        f"<tbody>\n{body}\n</tbody>\n</table>\n{notes_html}</body>\n</html>\n"
    )


def _html_row(r: GateResult) -> str:
    esc = html.escape
    details = ""
    if r.details:
        text = dumps(r.details, indent=2, sort_keys=True)
        details = f"<details><summary>details</summary><pre>{esc(text)}</pre></details>"
    return (
        f'<tr class="{esc(r.status.value)}"><td><span class="badge">{esc(r.status.value)}</span>'
        f"</td><td><code>{esc(r.gate)}</code></td><td>{esc(r.kind)}</td>"
        f"<td>{esc(observed_text(r))}</td><td>{esc(r.threshold)}</td>"
        f"<td>{esc(r.message)}{details}</td></tr>"
    )
