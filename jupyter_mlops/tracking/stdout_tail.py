"""Keep the tail of what a run prints, while still printing it.

``sys.stdout`` is not replaced: libraries check its type (``OutStream`` in a kernel), its
``encoding`` and ``isatty()``. Instead the stream object's ``write`` is wrapped for the duration,
the way IPython itself keeps a cell's output for its history, so the object, its type and all
its attributes stay exactly the same.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any


class StdoutTail:
    """Keep the last ``limit`` characters written to ``sys.stdout`` between :meth:`start` and
    :meth:`stop` (also a context manager)."""

    def __init__(self, limit: int = 2000) -> None:
        self.limit = limit
        self._chunks: deque[str] = deque(maxlen=512)
        self._stream: Any = None
        self._wrapper: Any = None
        self._had_own_write = False
        self._own_write: Any = None

    def start(self) -> StdoutTail:
        if self.limit <= 0:
            return self
        stream = sys.stdout
        own = getattr(stream, "__dict__", {})
        self._had_own_write = "write" in own
        self._own_write = own.get("write")
        inner = stream.write
        chunks = self._chunks

        def write(text: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(text, str):
                chunks.append(text)
            return inner(text, *args, **kwargs)

        try:
            stream.write = write  # type: ignore[method-assign]
        except (AttributeError, TypeError):  # a stream without an instance dict: no tail
            return self
        self._stream, self._wrapper = stream, write
        return self

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        # Undo only our own wrapper: if something wrapped it again meanwhile, leave theirs.
        if stream.__dict__.get("write") is self._wrapper:
            if self._had_own_write:
                stream.write = self._own_write
            else:
                del stream.write

    def __enter__(self) -> StdoutTail:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def text(self) -> str:
        return "".join(self._chunks)[-self.limit :] if self.limit > 0 else ""
