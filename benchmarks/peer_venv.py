"""A peer's own virtualenv under ``benchmarks/.venvs/`` (MLflow, Evidently): made on first use,
so the peer's pins never touch the project's venv."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class PeerVenv:
    """``python()``: the venv's interpreter, making the venv first if ``check`` does not import
    in it; ``None`` (with the reason printed once) when making it failed."""

    def __init__(self, venv: Path, label: str, requirements: Sequence[str], check: str) -> None:
        self.venv, self.label, self.requirements, self.check = venv, label, requirements, check
        self.why_not: str | None = None

    def python(self) -> Path | None:
        python = self.venv / "bin" / "python"
        if self.why_not:
            return None
        if python.exists() and self._imports(python):
            return python
        print(f"making {self.label}'s venv in {self.venv} (once) ...", flush=True)
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(self.venv)],
            [str(python), "-m", "pip", "install", "-q", *self.requirements],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                self.why_not = f"{self.label} not run: {' '.join(step[2:4])} failed ({last[:120]})"
                print(self.why_not)
                return None
        return python if self._imports(python) else None

    def _imports(self, python: Path) -> bool:
        code = self.check
        return subprocess.run([str(python), "-c", code], capture_output=True).returncode == 0
