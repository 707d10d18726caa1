"""REST handlers of a model's canary: ``GET models/NAME/rollout`` (the Deployment view),
``POST models/NAME/rollout`` (start one) and ``POST models/NAME/rollout/abort``. A bad plan is
a 400 with the CLI's one line, an unknown model a 404, a second canary a 409."""

from __future__ import annotations

import time
from typing import Any

from .. import bounds
from ..exceptions import ValidationError
from .base import MLOpsHandler


class RolloutHandler(MLOpsHandler):
    """``GET``: the model's canary (``state: none`` when it never had one). ``POST``
    ``{"version": 3, "steps": "2,5,10,25,50,100", "metric": "accuracy", "min_labels": 200,
    "guards": ["p99<50ms"], "interval": "1h", "effect": 0.02, "alpha": 0.05, "beta": 0.2}``
    (all but ``version`` optional): start canarying that version."""

    fields = (
        "version", "steps", "metric", "min_labels", "guards", "interval", "effect", "alpha",
        "beta",
    )  # fmt: skip

    def read(self, name: str) -> Any:
        from ..views.deployments import deployment

        return deployment(self.ctx.tracker().store, name, time.time())

    def act(self, name: str, body: bounds.Body) -> Any:
        from ..monitoring.canary_spec import make_plan
        from ..views.deployments import start_deployment

        version = body.integer("version", 1, bounds.MAX_VERSION, required=True)
        assert version is not None
        guards = body.get("guards") or []
        if not isinstance(guards, list) or not all(isinstance(g, str) for g in guards):
            raise ValidationError('"guards" must be a list of rules, e.g. ["p99<50ms"]')
        steps = body.get("steps") or "2,5,10,25,50,100"
        if not isinstance(steps, (str, list)):
            raise ValidationError('"steps" must be percents, e.g. "2,5,10,25,50,100"')
        interval = body.get("interval") or "1h"
        if not isinstance(interval, (str, int, float)) or isinstance(interval, bool):
            raise ValidationError('"interval" must be a duration, e.g. "1h"')
        plan = make_plan(
            steps,
            guards,
            interval,
            metric=body.text("metric", 40) or "accuracy",
            effect=body.number("effect", default=0.02),
            alpha=body.number("alpha", default=0.05),
            beta=body.number("beta", default=0.2),
            min_labels=body.integer("min_labels", 1, 10**9) or 200,
        )
        return start_deployment(self.ctx.tracker().store, name, version, plan, time.time())


class RolloutAbortHandler(MLOpsHandler):
    """``POST models/NAME/rollout/abort`` ``{"reason": "…"}``: all traffic back on the
    blessed version."""

    fields = ("reason",)

    def act(self, name: str, body: bounds.Body) -> Any:
        from ..views.deployments import abort_deployment

        reason = body.text("reason", 10_000, prose=True)
        return abort_deployment(self.ctx.tracker().store, name, time.time(), reason)


_ID = r"([^/]+)"

ROLLOUT_ROUTES: list[tuple[str, type[MLOpsHandler]]] = [
    (f"models/{_ID}/rollout", RolloutHandler),
    (f"models/{_ID}/rollout/abort", RolloutAbortHandler),
]
