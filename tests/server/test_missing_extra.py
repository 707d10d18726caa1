"""A server whose store needs an extra that is not installed answers with the one line that
names the extra, not an "internal error" (the install is what is wrong, not the code)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PG_URL = "postgresql://ann@127.0.0.1:1/team"  # nothing listens on port 1: never connected to
PG_LINE = "A postgresql:// store needs psycopg: pip install 'jupyter-mlops[postgres]'"


@pytest.fixture
def jp_root_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty root (not the template project) whose store is PostgreSQL, psycopg missing:
    a ``None`` in sys.modules makes the import fail as a missing package does."""
    monkeypatch.setenv("JUPYTER_MLOPS_STORE", PG_URL)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "psycopg_pool", None)
    return tmp_path


async def test_a_store_without_its_extra_is_the_one_line(api) -> None:
    for path in ("runs", "models"):
        assert await api(path) == (500, {"error": PG_LINE})
