"""A kernel client whose readiness check waits for the kernel, not for a fixed timeout.

``jupyter_client``'s ``wait_for_ready`` ends by draining IOPub until it has been silent for
0.2 s: on a sweep of short notebooks that idle wait, paid when the pool starts a kernel and
again when nbclient takes it, is longer than a run. This check asks ``kernel_info`` and is done
when the reply has come on shell *and* that request's ``idle`` status has come on IOPub (so IOPub
is connected, and nothing of the request is left to drain); if the status does not come (IOPub
not yet subscribed), it asks again, like ``jupyter_client``, waiting a little longer each time.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

# s for a request's idle status before asking again: short at first (a kernel just started has
# often not seen our IOPub subscription yet), up to jupyter_client's 0.2 s.
_IOPUB_WAITS = (0.01, 0.02, 0.05, 0.1, 0.2)


def ready_client_class() -> Any:
    """The client class, defined on first use (jupyter_client loads tornado: not at import)."""
    global _ready_client
    if _ready_client is None:
        from jupyter_client.asynchronous import AsyncKernelClient

        class ReadyClient(AsyncKernelClient):
            async def wait_for_ready(self, timeout: float | None = None) -> None:
                deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
                attempt = 0
                while True:
                    msg_id = self.kernel_info()
                    reply = await self._reply(msg_id, deadline)
                    wait = _IOPUB_WAITS[min(attempt, len(_IOPUB_WAITS) - 1)]
                    attempt += 1
                    if reply is not None and await self._idle(msg_id, wait):
                        self._handle_kernel_info_reply(reply)
                        return
                    if not await self._async_is_alive():
                        raise RuntimeError("Kernel died before replying to kernel_info")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

            async def _reply(self, msg_id: str, deadline: float) -> Any:
                while True:
                    try:
                        msg = await self.shell_channel.get_msg(timeout=min(1.0, _left(deadline)))
                    except Empty:
                        return None
                    if msg["parent_header"].get("msg_id") == msg_id:
                        return msg

            async def _idle(self, msg_id: str, wait: float) -> bool:
                end = time.monotonic() + wait
                while True:
                    try:
                        msg = await self.iopub_channel.get_msg(timeout=_left(end))
                    except Empty:
                        return False
                    if (
                        msg["parent_header"].get("msg_id") == msg_id
                        and msg["msg_type"] == "status"
                        and msg["content"].get("execution_state") == "idle"
                    ):
                        return True

        _ready_client = ReadyClient
    return _ready_client


_ready_client: Any = None


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
