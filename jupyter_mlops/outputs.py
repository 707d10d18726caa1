"""Keep the tail of what a run prints, while still printing it."""

from __future__ import annotations

import sys
from collections import deque
from typing import Any, TextIO


class _Tee:
    def __init__(self, inner: TextIO, sink: deque[str]) -> None:
        self._inner = inner
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink.append(text)
        return self._inner.write(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding … of the real stream
        return getattr(self._inner, name)


class StdoutTail:
    """Context manager: tee ``sys.stdout`` and keep its last ``limit`` characters."""

    def __init__(self, limit: int = 2000) -> None:
        self.limit = limit
        self._chunks: deque[str] = deque(maxlen=512)
        self._saved: TextIO | None = None

    def __enter__(self) -> StdoutTail:
        self._saved = sys.stdout
        sys.stdout = _Tee(sys.stdout, self._chunks)
        return self

    def __exit__(self, *exc: object) -> None:
        # Restore only our own tee: user code may have swapped stdout itself meanwhile.
        if isinstance(sys.stdout, _Tee) and sys.stdout._sink is self._chunks:
            sys.stdout = self._saved

    def text(self) -> str:
        return "".join(self._chunks)[-self.limit :] if self.limit > 0 else ""
