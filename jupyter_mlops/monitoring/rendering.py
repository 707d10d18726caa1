"""The monitor report for people: tables of batches and of evaluations and actions, as text for
the terminal or a self-contained HTML page."""

from __future__ import annotations

import html
from typing import Any

from ..codec import utc
from ..store.base import MonitorEvent
from .history import History


def _t(t: float) -> str:
    return utc(t).strftime("%Y-%m-%d %H:%M")


def _metric_keys(h: History) -> list[str]:
    keys: dict[str, None] = {}
    for b in h.batches:
        keys.update(dict.fromkeys(k for k in b.metrics if k != "n"))
    return list(keys)


def batch_table(h: History) -> tuple[list[str], list[list[str]]]:
    keys = _metric_keys(h)
    head = ["time (UTC)", "version", "role", "rows", "latency", "drift share", "drifted"]
    head += ["labelled", *keys]
    body = []
    for b in h.batches:
        share = "" if b.share_drifted is None else f"{b.share_drifted:.2f}"
        lat = "" if b.latency is None else f"{b.latency * 1000:.1f}ms"
        row = [_t(b.time), f"@{b.version}", b.role, str(b.n_rows), lat, share, ",".join(b.drifted)]
        row.append(str(int(b.metrics["n"])) if "n" in b.metrics else "")
        row += [f"{b.metrics[k]:.3g}" if k in b.metrics else "" for k in keys]
        body.append(row)
    return head, body


def describe_event(e: MonitorEvent) -> str:
    d = e.detail
    if e.kind == "evaluation":
        checks = d.get("checks", [])
        bad = [c for c in checks if c.get("breached")]
        if not bad:
            # Events recorded before checks had a status have no "pending" ones.
            pending = [c for c in checks if c.get("status") == "pending"]
            why = [f"{c['check']} pending ({c.get('detail', {}).get('skip')})" for c in pending]
            ok = len(checks) - len(pending)
            return f"@{d.get('version')} " + "; ".join(
                [*why, f"{ok} checks ok"] if ok or not why else why
            )
        return "; ".join(
            f"{c['check']} {c['value']:.3g} breaches {c['threshold']} -> {c['action']}"
            for c in bad
            if c.get("value") is not None
        )
    if e.kind in ("load", "shadow", "overflow", "lost"):  # what serving recorded (serving/)
        return _serving_event(e.kind, d)
    text = f"{d.get('action')}: {d.get('reason', '')}"
    if "run_id" in d:
        text += f" -> run {str(d['run_id'])[:8]} {d.get('status', '')}"
        text += ", model blessed" if d.get("blessed") else ", model kept as a candidate (gates)"
    if "to" in d:
        text += f" -> @{d['from']} archived, @{d['to']} blessed"
    if "error" in d:
        text += f" ({d['error']})"
    return text


def _serving_event(kind: str, d: dict) -> str:
    if kind == "load":
        return (
            f"@{d.get('version')} loaded in {d.get('seconds', 0) * 1000:.0f}ms (apart from latency)"
        )
    who = f"shadow @{d['version']}" if "version" in d else "records"
    if "batches" in d:
        return f"{who}: {d['batches']} batch(es), {d.get('rows')} rows left out ({d.get('why')})"
    return f"{who}, batch {d.get('batch_id')}: {d.get('error') or d.get('why')}"


def event_table(h: History) -> tuple[list[str], list[list[str]]]:
    head = ["time (UTC)", "kind", "status", "detail"]
    return head, [[_t(e.time), e.kind, e.status, describe_event(e)] for e in h.events]


def _text_table(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *body]]
    return "\n".join(line.rstrip() for line in lines)


def header(h: History, blessed: str | None) -> str:
    text = f"model {h.name}: blessed {blessed or '(none)'}"
    if h.spec is not None:
        checks = ", ".join(c.name + f" -> {c.action}" for c in h.spec.checks)
        text += f"; monitor window {h.spec.window}, checks: {checks or 'none'}"
    return text


def render_text(h: History, blessed: str | None) -> str:
    parts = [header(h, blessed)]
    parts.append(_text_table(*batch_table(h)) if h.batches else "no batches in this period")
    breaches = sum(1 for e in h.events if e.kind == "evaluation" and e.status == "breach")
    parts.append(f"\nevaluations: {sum(e.kind == 'evaluation' for e in h.events)}, "
                 f"breaches: {breaches}")  # fmt: skip
    if h.events:
        parts.append(_text_table(*event_table(h)))
    return "\n".join(parts)


def _html_table(head: list[str], body: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    trs = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _svg(fig: Any) -> str:
    import io

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def render_html(h: History, blessed: str | None, figures: list[Any] | None = None) -> str:
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}"
    )
    body = [
        f"<h1>Monitoring: {html.escape(h.name)}</h1>",
        f"<p>{html.escape(header(h, blessed))}</p>",
    ]
    body += ["<h2>Batches</h2>", _html_table(*batch_table(h))]
    body += ["<h2>Evaluations and actions</h2>", _html_table(*event_table(h))]
    body += [_svg(f) for f in figures or []]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(h.name)}"
        f" monitoring</title><style>{style}</style></head><body>{''.join(body)}</body></html>"
    )
