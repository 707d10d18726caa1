"""What ``jupyter-mlops serve`` is told: the models, the address, the limits and the token,
each parsed and bounded here so that the CLI and the app factory of each worker read them alike.

The token rule: bound to a loopback address the server answers anyone on this machine, as the
Jupyter server's own loopback default does; bound to anything else it requires a bearer token
(``--token-file`` or ``JUPYTER_MLOPS_SERVE_TOKEN``) and refuses to start without one.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import bounds
from ..cron.durations import parse_duration
from ..exceptions import ConfigError, ValidationError

TOKEN_ENV = "JUPYTER_MLOPS_SERVE_TOKEN"
OPTIONS_ENV = "JUPYTER_MLOPS_SERVE_OPTIONS"  # how each worker process gets the options
DEFAULT_MAX_BODY = 10 * 2**20
MAX_MAX_BODY = 2**31  # 2 GiB: a body is held in memory whole
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 3600.0
MAX_WORKERS = 256
MAX_TOKEN_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30,
}  # fmt: skip


@dataclass(frozen=True)
class ServeOptions:
    """The server's settings. ``names`` empty: every model with a blessed version (models
    blessed later included). ``poll_seconds``: how often the store's model events are looked
    at. ``record``/``routing`` off: the bare server the benchmark compares with."""

    names: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    token: str | None = field(default=None, repr=False)
    max_body: int = DEFAULT_MAX_BODY
    timeout: float = DEFAULT_TIMEOUT
    poll_seconds: float = 1.0
    record: bool = True
    routing: bool = True

    def to_env(self) -> str:
        """The options as one environment value, for the worker processes."""
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServeOptions:
        raw = (os.environ if environ is None else environ).get(OPTIONS_ENV)
        if not raw:
            raise ConfigError(
                f"{OPTIONS_ENV} is not set; start the server with jupyter-mlops serve"
            )
        data: dict[str, Any] = json.loads(raw)
        data["names"] = tuple(data.get("names", ()))
        return cls(**data)


def parse_size(text: str, option: str = "--max-body") -> int:
    """Bytes in ``text``: ``10MB``, ``512KiB``, ``1000``; from 1 byte to 2 GiB."""
    m = _SIZE.match(text) if len(text) <= 40 else None
    if m is None:
        raise ValidationError(f"{option} {text[:40]!r} is not a size; write e.g. 10MB or 512KiB")
    size = int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])
    if not 1 <= size <= MAX_MAX_BODY:
        raise ValidationError(f"{option} must be from 1 byte to 2GiB, got {text!r}")
    return size


def parse_timeout(text: str, option: str = "--timeout") -> float:
    """Seconds in ``text`` (``30s``, ``2m``, ``0.5``): more than 0, at most an hour."""
    seconds = parse_duration(text[:40])
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ValidationError(f"{option} must be more than 0 and at most 1h, got {text!r}")
    return seconds


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def read_token(token_file: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The bearer token: the first line of ``token_file``, else ``$JUPYTER_MLOPS_SERVE_TOKEN``,
    else None. Never echoed in a message."""
    env = os.environ if environ is None else environ
    if token_file is not None:
        path = Path(token_file)
        try:
            raw = path.read_bytes()[: MAX_TOKEN_BYTES + 1]
        except OSError as e:
            raise ValidationError(
                f"--token-file {token_file}: cannot read it ({e.strerror})"
            ) from e
        lines = raw.decode("utf-8", "replace").splitlines()
        token = lines[0].strip() if lines else ""
        where = f"--token-file {token_file}"
    else:
        token = env.get(TOKEN_ENV, "").strip()
        where = TOKEN_ENV
        if not token:
            return None
    if not token or len(token) > MAX_TOKEN_BYTES:
        raise ValidationError(f"{where} holds no usable token; write one line of 1-4096 chars")
    if _CONTROL.search(token):
        raise ValidationError(f"{where}: the token contains a control character")
    return token


def check_options(options: ServeOptions) -> ServeOptions:
    """``options`` if they may be served: a non-loopback host needs a token."""
    bounds.check_int(options.port, "--port", 0, 65535)
    bounds.check_int(options.workers, "--workers", 1, MAX_WORKERS)
    for name in options.names:
        bounds.check_key(name, "model name")
    if not is_loopback(options.host) and not options.token:
        raise ValidationError(
            f"--host {options.host} is reachable from other machines: give a bearer token with "
            f"--token-file FILE or ${TOKEN_ENV}, or bind to 127.0.0.1"
        )
    return options
