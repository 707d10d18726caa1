"""A webhook receiver on 127.0.0.1 for the notification tests: a real HTTP server in a thread
of the test process, which records every POST (its ``Idempotency-Key`` and JSON body) and
answers 204, or 503 while ``down``, or holds the request until released while ``holding``."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.processes import free_port

WAIT_S = 120.0  # generous: the suite runs on a loaded 2-core machine


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []  # (key, body) of every request
        self.answered: list[str] = []  # keys answered 2xx
        self.headers: list[Any] = []  # email.message.Message: names match in any case
        self.down = False
        self.holding = False
        self.arrived = threading.Event()  # a held request came in
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key", "")
                receiver.received.append((key, body))
                receiver.headers.append(self.headers)
                if receiver.holding:
                    receiver.arrived.set()
                    receiver.release.wait(WAIT_S)
                if receiver.down:
                    self.send_response(503)
                else:
                    receiver.answered.append(key)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = False  # server_close() joins the handler threads
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook")

    def keys(self) -> list[str]:
        return [k for k, _ in self.received]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@contextmanager
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.close()


@contextmanager
def hanging_endpoint() -> Iterator[str]:
    """A URL whose server accepts connections (the kernel's backlog does) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}/hook"


def closed_port_url() -> str:
    """A URL nobody listens on: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}/hook"
