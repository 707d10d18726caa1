"""The server's Prometheus metrics (``GET /metrics``), on a registry of its own.

Several worker processes (``--workers N``): prometheus_client's multiprocess mode. The CLI sets
``PROMETHEUS_MULTIPROC_DIR`` to a fresh folder before the workers start (the value class is
chosen when prometheus_client is imported), each worker writes its samples there, and
``/metrics`` of any worker adds them all up. One process: plain in-memory metrics.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = ["CONTENT_TYPE", "Telemetry"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: a linear model answers in well under a millisecond, a forest in tens.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Telemetry:
    """Requests, errors, latency and lost records, labelled by model, version and arm."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "mlops_serve_requests", "Predict requests answered", ["model", "status"], registry=r
        )
        self.errors = Counter(
            "mlops_serve_errors",
            "Requests answered with an error, by status class (4xx, 5xx)",
            ["model", "status_class"],
            registry=r,
        )
        self.latency = Histogram(
            "mlops_serve_latency_seconds",
            "Time to answer a predict request, body parsing included",
            ["model", "version", "arm"],
            buckets=BUCKETS,
            registry=r,
        )
        self.rows = Counter(
            "mlops_serve_rows", "Rows scored", ["model", "version", "arm"], registry=r
        )
        self.recorded = Counter(
            "mlops_serve_records", "Batches handed to the recorder", ["model"], registry=r
        )
        self.lost = Counter(
            "mlops_serve_records_lost",
            "Answered batches whose record was lost (store down, queue full)",
            ["model", "why"],
            registry=r,
        )

    def answered(self, model: str, status: int) -> None:
        self.requests.labels(model, str(status)).inc()
        if status >= 400:
            self.errors.labels(model, f"{status // 100}xx").inc()

    def scored(self, model: str, version: int, arm: str, rows: int, seconds: float) -> None:
        self.latency.labels(model, str(version), arm).observe(seconds)
        self.rows.labels(model, str(version), arm).inc(rows)

    def exposition(self) -> bytes:
        """The text format of every metric (all workers' under multiprocess mode)."""
        if os.environ.get(MULTIPROC_ENV):
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)
            return generate_latest(combined)
        return generate_latest(self.registry)


def mark_dead(pid: int) -> None:
    """Tell multiprocess mode that worker ``pid`` exited (its live gauges are dropped)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
