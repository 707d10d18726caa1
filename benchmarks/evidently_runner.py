"""Evidently 0.7.23 in its own venv (it needs pandas < 3): made once, fed parquet files.

The venv lives in ``benchmarks/.venvs/evidently`` (git-ignored). Frames go to it as parquet
files written here; its verdicts come back as JSON (see ``evidently_side.py``). When the venv
cannot be made (no network, no wheel), :func:`evidently_python` says why in one line and the
benchmark goes on without Evidently's columns.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from peer_venv import PeerVenv

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "evidently"
SIDE = HERE / "evidently_side.py"
REQUIREMENTS = ["evidently==0.7.23", "pandas<3", "pyarrow"]
_PEER: PeerVenv | None = None  # made once, on first use


def evidently_python() -> Path | None:
    """The venv's interpreter, making the venv on first use; ``None`` (and a printed reason)
    when that fails."""
    global _PEER
    if _PEER is None:
        _PEER = PeerVenv(
            VENV,
            "Evidently",
            REQUIREMENTS,
            "import evidently, pandas; assert pandas.__version__ < '3'",
        )
    return _PEER.python()


class EvidentlyBatch:
    """Jobs for Evidently, written as they are drawn and run in one background subprocess, so
    Evidently's minutes overlap the rest of the benchmark.

    ``add(tag, reference, current)`` queues a pair (a frame passed twice is written once);
    ``start()`` launches Evidently on every pair; ``results()`` waits and returns each tag's
    verdicts in the order added, or ``None`` when Evidently is not available.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.python = evidently_python() if enabled else None
        self._dir = tempfile.TemporaryDirectory(prefix="evidently-")
        self._written = 0
        self._last: dict[int, tuple[Any, str]] = {}  # slot (0 reference, 1 current) -> last
        self._jobs: list[tuple[str, str, str]] = []
        self._process: subprocess.Popen[str] | None = None

    @property
    def available(self) -> bool:
        return self.python is not None

    def add(self, tag: str, reference: Any, current: Any) -> None:
        if self.available:
            self._jobs.append((tag, self._write(reference, 0), self._write(current, 1)))

    def _write(self, frame: Any, slot: int) -> str:
        # The scenarios of one repetition share its reference: written once, for the next job.
        last = self._last.get(slot)
        if last is not None and last[0] is frame:
            return last[1]
        path = str(Path(self._dir.name) / f"{self._written}.parquet")
        frame.to_parquet(path, index=False)
        self._written += 1
        self._last[slot] = (frame, path)
        return path

    def start(self) -> None:
        if not self.available or not self._jobs:
            return
        manifest = Path(self._dir.name) / "manifest.json"
        manifest.write_text(json.dumps({"jobs": [[r, c] for _, r, c in self._jobs]}))
        out = Path(self._dir.name) / "out.json"
        command = ["nice", "-n", "10", str(self.python), str(SIDE), str(manifest), str(out)]
        self._process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)

    def results(self) -> dict[str, list[dict[str, Any]]] | None:
        if self._process is None:
            return None
        _, err = self._process.communicate()
        try:
            if self._process.returncode != 0:
                last = (err.strip().splitlines() or ["no output"])[-1]
                print(f"Evidently failed: {last[:160]}")
                return None
            verdicts = json.loads((Path(self._dir.name) / "out.json").read_text())
        finally:
            self._dir.cleanup()
        out: dict[str, list[dict[str, Any]]] = {}
        for (tag, _, _), verdict in zip(self._jobs, verdicts, strict=True):
            out.setdefault(tag, []).append(verdict)
        return out
