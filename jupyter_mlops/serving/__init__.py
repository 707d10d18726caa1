"""``jupyter-mlops serve``: the HTTP model server over the registry and the monitors.

Each served model answers ``POST /models/NAME/predict`` with its blessed version's predictions
(a canary's share routed to the candidate by a sticky hash), enforces the version's input
contract, and records every request as ``mlops.predict`` records a batch, after the response;
shadow versions score the same rows off the request path. See docs/guide/serving.md.
"""

from __future__ import annotations

from .app import create_app
from .errors import ServeError
from .options import ServeOptions, check_options, parse_size, parse_timeout, read_token
from .runner import serve

__all__ = [
    "ServeError",
    "ServeOptions",
    "check_options",
    "create_app",
    "parse_size",
    "parse_timeout",
    "read_token",
    "serve",
]
