"""Scheduled canary looks: the part of the scheduler that steps each running canary.

At each tick the :class:`~.scheduler.Scheduler` calls :meth:`RolloutJobs.tick`: every running
canary is looked at under a lease of its own (``canary:NAME``), and :func:`.canary.step`
decides whether a look is due (one ``--interval`` after the canary's last change) and applies
it as a compare-and-set on the rollout's revision. The lease keeps two schedulers from looking
at once; the revision keeps a stale one from applying an old look. State is in the store, so a
restarted scheduler resumes each canary at its stored step.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..exceptions import MLOpsError
from ..store.base import RunStore
from ..store.sql_rollouts import RolloutTables

log = logging.getLogger(__name__)
LEASE_PREFIX = "canary:"


class RolloutJobs:
    """The running canaries of a store, as the scheduler drives them."""

    def __init__(self, store: RunStore, root: Path | None) -> None:
        self.store = store
        self.root = root  # the project whose notify target hears of steps

    def tick(
        self, now: dt.datetime, leased: Callable[[str], AbstractContextManager[bool]]
    ) -> list[dict[str, Any]]:
        """Step each running canary whose look is due; one event per look taken."""
        from ..monitoring.canary import step

        if not isinstance(self.store, RolloutTables):
            return []
        events = []
        for rollout in self.store.active_rollouts():
            with leased(LEASE_PREFIX + rollout.name) as held:
                if not held:
                    continue
                try:
                    result = step(self.store, rollout.name, now.timestamp(), root=self.root)
                except MLOpsError as e:  # one canary's trouble must not stop the others
                    log.error("canary %s: %s", rollout.name, e)
                    continue
                except Exception:  # nor a bug in one: logged, the scheduler goes on
                    log.exception("canary %s: the look failed", rollout.name)
                    continue
                if result is not None:
                    events.append(
                        {"pipeline": LEASE_PREFIX + rollout.name, "kind": "canary", "at": now,
                         "outcome": result.decision, "message": result.reason}
                    )  # fmt: skip
        return events


__all__ = ["LEASE_PREFIX", "RolloutJobs"]
