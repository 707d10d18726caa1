from __future__ import annotations

from pathlib import Path

import pytest

# pytest-jupyter registers no plugin entry point; its fixtures and async-test hooks (for
# test_rollout_api.py) come in here.
from pytest_jupyter.jupyter_server import *  # noqa: F403

import jupyter_mlops as mlops
from jupyter_mlops.store import open_store
from jupyter_mlops.store.base import RunStore
from jupyter_mlops.tracking import reset_default_tracker


@pytest.fixture
def lite(isolated_store: Path) -> RunStore:
    """A real SQLite store (the default tracker's)."""
    reset_default_tracker()
    return open_store(str(isolated_store))


@pytest.fixture
def lite_tracker(lite: RunStore) -> mlops.Tracker:
    return mlops.default_tracker()
