"""``jupyter-mlops serve`` as a command: the address and token rules, and a real server process
killed with SIGKILL under load, after which the store is intact and what was answered but not
recorded is the only loss."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.cli.app import main
from jupyter_mlops.exceptions import ValidationError
from jupyter_mlops.exit_codes import ExitCode
from jupyter_mlops.serving import ServeOptions, check_options, read_token
from jupyter_mlops.store import open_store

from .live import free_port, load_until, register, train, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_a_non_loopback_address_without_a_token_is_refused(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--token-file" in err and host in err


def test_loopback_needs_no_token_and_a_token_file_is_read_whole(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_options(ServeOptions(host=host))
    (tmp_path / "t").write_text("tok-123\nignored\n")
    assert read_token(str(tmp_path / "t"), {}) == "tok-123"
    assert read_token(None, {"JUPYTER_MLOPS_SERVE_TOKEN": " tok-9 "}) == "tok-9"
    assert read_token(None, {}) is None
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValidationError, match="no usable token"):
        read_token(str(tmp_path / "empty"), {})
    check_options(ServeOptions(host="0.0.0.0", token="tok-123"))


@pytest.mark.parametrize(
    ("option", "value"),
    [("--max-body", "10XB"), ("--max-body", "0"), ("--timeout", "0s"), ("--timeout", "2h")],
)
def test_bad_limits_are_usage_errors(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", option, value]) == ExitCode.USAGE
    assert option in capsys.readouterr().err


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real ``jupyter-mlops serve`` process with a token, on a free port."""
    register(mlops.default_tracker(), "churn", train(0))
    token = tmp_path / "token"
    token.write_text("never-printed-token\n")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "jupyter_mlops", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--token-file", str(token)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        up = wait_for(lambda: _ready(url, proc), 60)
        assert up, "the server did not become ready"
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def _ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"the server exited with {proc.returncode}")
    try:
        auth = {"authorization": "Bearer never-printed-token"}
        return httpx.get(f"{url}/ready", headers=auth, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow  # server processes, each importing the model stack
def test_kill_9_under_load_leaves_the_store_consistent(
    server: tuple[subprocess.Popen[bytes], str], isolated_store: Path
) -> None:
    proc, url = server
    auth = {"authorization": "Bearer never-printed-token"}
    answered: dict[str, int] = {}
    stop = threading.Event()

    threads = [
        threading.Thread(target=load_until, args=(url, auth, answered, stop, s)) for s in range(4)
    ]
    for t in threads:
        t.start()
    wait_for(lambda: len(answered) >= 100, 60)
    os.kill(proc.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(30)
    proc.wait(30)
    assert proc.stdout is not None
    output = proc.stdout.read().decode()
    assert "never-printed-token" not in output and "serving every model" in output
    assert len(answered) >= 100

    db = next(isolated_store.glob("*.db"))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = open_store(str(isolated_store))
    batches = store.monitor_batches("churn")
    # nothing half-written: each recorded batch is a request answered, with all its rows
    assert batches and all(answered.get(b.batch_id) == b.n_rows for b in batches)
    rows = store.labelled_predictions("churn")  # no labels yet: a read that must not fail
    assert rows == []
    lost = len(answered) - len(batches)
    assert lost >= 0
