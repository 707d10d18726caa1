"""What the tests that start servers share: a free port to give one, and stopping one."""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it; a server started next may take it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM, so the server cleans up; SIGKILL if it has not ended ``timeout`` s later."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def kill_if_running(proc: subprocess.Popen) -> None:
    """The ``finally`` of a test that drives a child: whatever failed, it is not left running."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
