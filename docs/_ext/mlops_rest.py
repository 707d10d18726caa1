"""``mlops-routes``: the REST reference table, generated from the server's route table.

Each row's path, methods and body fields come from ``jupyter_mlops.server.handlers.ROUTES``
(a method exists when its handler defines ``read`` (GET) or ``act`` (POST); a POST body's
fields are the handler's ``fields``). What an endpoint answers is prose and stays in the page,
one ``path: text`` entry per route in the directive's body; the build fails (a warning under
``-W``) when a route has no entry or an entry names no route, so the page cannot drift from
the code.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


_FIRST = {"runs": "ID", "pipelines": "NAME", "models": "NAME", "monitors": "NAME"}
_AFTER = {
    "metrics/": "KEY",
    "artifacts/": "NAME",
    "preview/": "NAME",
    "inline/": "NAME",
    "table/": "NAME",
    "versions/": "VERSION",
}


def display_path(pattern: str) -> str:
    """``runs/([^/]+)/metrics/(.+)`` -> ``runs/ID/metrics/KEY``: each regex group of a route
    named as the reference names it (by the resource it follows)."""
    pieces = re.split(r"(\([^)]*\))", pattern)  # odd pieces are the groups
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(piece)
            continue
        before = "".join(pieces[:i])
        later = next((n for s, n in _AFTER.items() if before.endswith(s)), None)
        out.append(later or _FIRST.get(before.rstrip("/"), "ARG"))
    return "".join(out)


def routes() -> list[dict[str, Any]]:
    """One entry per route: display path, methods, POST fields and handler name."""
    from jupyter_mlops.server.handlers import ROUTES, MLOpsHandler

    found = []
    for pattern, handler in ROUTES:
        methods = [m for m, attr in (("GET", "read"), ("POST", "act")) if getattr(handler, attr)]
        if not methods and handler.get is not MLOpsHandler.get:  # a stream: GET events
            methods = ["GET"]
        found.append(
            {
                "path": display_path(pattern),
                "methods": methods,
                "fields": list(handler.fields),
                "handler": handler.__name__,
            }
        )
    return found


class RoutesDirective(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        described = self._descriptions()
        table = routes()
        known = {r["path"] for r in table}
        for path in sorted(set(described) - known):
            logger.warning(
                "mlops-routes: %r is described but not in ROUTES",
                path,
                location=self.get_location(),
            )
        lines = ["| endpoint | body | answers |", "|---|---|---|"]
        for r in table:
            if r["path"] not in described:
                logger.warning(
                    "mlops-routes: route %r (%s) has no description",
                    r["path"],
                    r["handler"],
                    location=self.get_location(),
                )
            methods = " ".join(f"`{m}`" for m in r["methods"])
            body = ", ".join(f"`{f}`" for f in r["fields"]) or "—"
            answer = described.get(r["path"], "").replace("|", "\\|")
            lines.append(f"| {methods} `{r['path']}` | {body} | {answer} |")
        container = nodes.container()
        self.state.nested_parse(
            StringList(lines, source=self.get_source_info()[0]), self.content_offset, container
        )
        return list(container.children)

    def _descriptions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        current = None
        for line in self.content:
            if not line.strip():
                continue
            if not line.startswith((" ", "\t")) and ": " in line:
                current, text = line.split(": ", 1)
                out[current.strip()] = text.strip()
            elif current is not None:
                out[current] += " " + line.strip()
        return out


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("mlops-routes", RoutesDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
