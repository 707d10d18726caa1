"""Is the process that started a run still alive? (pid plus start time, so a reused pid is not
mistaken for the original process.)"""

from __future__ import annotations

import os
import socket
from functools import lru_cache


@lru_cache(maxsize=1)
def hostname() -> str:
    """This machine's name as runs record it; ``JUPYTER_MLOPS_HOST`` overrides it where the
    system's is not stable or not unique (containers sharing a team store)."""
    return os.environ.get("JUPYTER_MLOPS_HOST") or socket.gethostname()


def process_start(pid: int) -> str | None:
    """An opaque token for when ``pid`` started, or None when unknown or not running."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parens: split after its last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):  # zombie or dead: its run cannot progress
        return None
    return fields[19].decode()  # field 22 of the full line: start time in clock ticks


_own: dict[int, str | None] = {}


def own_start() -> str | None:
    """This process's start token (cached per pid, so a forked child gets its own)."""
    pid = os.getpid()
    if pid not in _own:
        _own[pid] = process_start(pid)
    return _own[pid]


def is_alive(pid: int, start: str | None) -> bool:
    """True if ``pid`` runs and (when known) started at ``start``."""
    if os.path.isdir("/proc/self"):
        now = process_start(pid)
        return now is not None and (start is None or now == start)
    try:  # no /proc (macOS): signal 0 only tells whether some process has this pid
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
