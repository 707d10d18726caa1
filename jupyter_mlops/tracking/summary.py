"""The compact run summary shown under a tracked cell, as plain text and as HTML."""

from __future__ import annotations

import html
from typing import Any

from ..display import as_time, display_time
from ..entities import DataRef, Run
from .compare import RunDiff, format_delta
from .seeding import RNG_STATE_TAG

MAX_ITEMS = 12


def _value(v: Any, key: str = "") -> str:
    when = as_time(key, v)  # e.g. the tag reproduced_at: epoch seconds read as a time
    if when is not None:
        return when
    if isinstance(v, float):
        return f"{v:.4g}"
    text = str(v)
    return text if len(text) <= 40 else text[:37] + "…"


def _items(d: dict[str, Any]) -> str:
    parts = [f"{k}={_value(v, k)}" for k, v in list(d.items())[:MAX_ITEMS]]
    if len(d) > MAX_ITEMS:
        parts.append(f"… +{len(d) - MAX_ITEMS} more")
    return "  ".join(parts)


def _shape(ref: DataRef) -> str:
    shape = ref.fingerprint.shape
    if ref.fingerprint.kind == "file":
        return f"{ref.fingerprint.nbytes:,} B"
    return "×".join(str(s) for s in shape) if shape else ""


def _params(params: dict[str, Any]) -> str:
    """Params the cell assigned, then fitted estimators' params collapsed to one entry each."""
    own = {k: v for k, v in params.items() if "." not in k}
    groups: dict[str, int] = {}
    for k in params:
        if "." in k:
            groups[k.split(".")[0]] = groups.get(k.split(".")[0], 0) + 1
    text = _items(own)
    extra = "  ".join(f"{g}.* ({n})" for g, n in groups.items())
    return f"{text}  {extra}".strip()


def _inputs(run: Run) -> str:
    return "  ".join(f"{d.name} {d.fingerprint.short} ({_shape(d)})" for d in run.inputs[:8])


def change_line(diff: RunDiff) -> str:
    """One line saying what changed since the previous run of the same cell."""
    if diff.first_run:
        return "first run of this cell"
    own = {k: c for k, c in diff.params_changed.items() if "." not in k}
    # An estimator param that changed exactly like a cell param (C → model.C) says nothing new.
    nested = {k: c for k, c in diff.params_changed.items() if "." in k and c not in own.values()}
    parts = [f"{k} {_value(o)} → {_value(n)}" for k, (o, n) in {**own, **nested}.items()]
    parts += [f"{k} {format_delta(o, n)}" for k, (o, n) in diff.metric_deltas.items()]
    for name, what in diff.inputs_changed.items():
        parts.append(f"{name} changed ({', '.join(what[:4])})")
    if diff.inputs_new:
        parts.append("new inputs: " + ", ".join(diff.inputs_new))
    if not diff.inputs_changed and diff.inputs_same and not diff.inputs_new:
        parts.append("inputs unchanged")
    if not diff.params_changed:
        parts.insert(0, "same params")
    return f"vs {diff.previous_id[:8]}: " + " · ".join(parts)  # type: ignore[index]


def seed_text(run: Run) -> str:
    """The seed a run was given, or that its RNG states were recorded instead (the default)."""
    if run.seed is not None:
        return str(run.seed)
    return "state recorded" if run.tags.get(RNG_STATE_TAG) else "-"


def format_summary(run: Run, diff: RunDiff) -> str:
    head = (
        f"● run {run.short_id}  {run.status.value}  {run.duration or 0:.2f}s  "
        f"seed {seed_text(run)}  experiment {run.experiment}"
    )
    lines = [head]
    if run.params:
        lines.append(f"  params   {_params(run.params)}")
    if run.metrics:
        lines.append(f"  metrics  {_items(run.metrics)}")
    if run.inputs:
        lines.append(f"  inputs   {_inputs(run)}")
    lines.append(f"  changes  {change_line(diff)}")
    for w in run.warnings[:5]:
        lines.append(f"  warning  {w}")
    return "\n".join(lines)


def summary_html(run: Run, diff: RunDiff) -> str:
    e = html.escape
    color = {"finished": "#1a7f37", "failed": "#cf222e", "interrupted": "#9a6700"}.get(
        run.status.value, "#57606a"
    )
    rows = []
    if run.params:
        rows.append(("params", _params(run.params)))
    if run.metrics:
        rows.append(("metrics", _items(run.metrics)))
    if run.inputs:
        rows.append(("inputs", _inputs(run)))
    rows.append(("changes", change_line(diff)))
    rows += [("warning", w) for w in run.warnings[:5]]
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em;color:#57606a'>{e(k)}</th>"
        f"<td style='text-align:left;font-family:monospace'>{e(v)}</td></tr>"
        for k, v in rows
    )
    return (
        "<div class='jupyter-mlops-summary' style='font-size:12px'"
        f" data-jupyter-mlops-run='{e(run.id)}'>"  # the sidebar links the run to its detail
        f"<b style='color:{color}'>● {e(run.status.value)}</b> run <code>{e(run.short_id)}</code>"
        f" · {run.duration or 0:.2f}s · seed {e(seed_text(run))} · experiment "
        f"<b>{e(run.experiment)}</b><table style='margin:0'>{body}</table></div>"
    )


SUMMARY_MIMETYPE = "application/vnd.jupyter-mlops.summary+json"


class RunSummary:
    """Displays as HTML in a notebook and as text in a terminal. The bundle also carries
    :data:`SUMMARY_MIMETYPE` (run id and status), so a front-end or a test can tell the
    summary apart from the cell's own outputs."""

    def __init__(self, run: Run, diff: RunDiff) -> None:
        self.run = run
        self.diff = diff

    def __repr__(self) -> str:
        return format_summary(self.run, self.diff)

    def _repr_html_(self) -> str:
        return summary_html(self.run, self.diff)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": format_summary(self.run, self.diff),
            "text/html": summary_html(self.run, self.diff),
            SUMMARY_MIMETYPE: {"run_id": self.run.id, "status": self.run.status.value},
        }


def format_run(run: Run) -> str:
    """A full, human-readable description of one run (``show``)."""
    lines = [
        f"run {run.id}",
        f"  experiment   {run.experiment}" + (f"  name {run.name}" if run.name else ""),
        f"  status       {run.status.value}" + (f"  kind {run.kind.value}"),
        f"  started      {display_time(run.started)}  duration {run.duration or 0:.3f}s",
        f"  seed         {seed_text(run)}",
    ]
    if run.parent_id:
        lines.append(f"  parent       {run.parent_id}")
    if run.notebook:
        lines.append(f"  notebook     {run.notebook}  [cell {run.execution_count}]")
    if run.git.commit:
        dirty = " (dirty, diff " + str(run.git.diff_hash) + ")" if run.git.dirty else ""
        lines.append(f"  git          {run.git.commit[:12]} {run.git.branch or ''}{dirty}")
    if run.peak_memory is not None:
        lines.append(f"  peak memory  +{run.peak_memory / 2**20:.1f} MiB")
    for title, items in (("params", run.params), ("metrics", run.metrics), ("tags", run.tags)):
        if items:
            lines.append(f"  {title}")
            lines += [f"    {k} = {_value(v, k)}" for k, v in sorted(items.items())]
    if run.data:
        lines.append("  data")
        lines += [
            f"    {d.role.value:6} {d.name}  {d.fingerprint.kind} {d.fingerprint.short}"
            f"  {_shape(d)}"
            for d in run.data
        ]
    if run.artifacts:
        lines.append("  artifacts")
        lines += [f"    {a.kind:8} {a.name}  {a.size:,} B  {a.uri}" for a in run.artifacts]
    for w in run.warnings:
        lines.append(f"  warning      {w}")
    if run.error:
        lines.append("  error\n    " + run.error.strip().replace("\n", "\n    "))
    if run.code:
        lines.append("  code\n    " + run.code.strip().replace("\n", "\n    "))
    return "\n".join(lines)
