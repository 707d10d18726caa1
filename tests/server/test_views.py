"""Core pieces behind the API that need no server: the top-N-by-metric query path, free-text
search, and the extension being enabled by the installed config file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import jupyter_mlops as mlops

ROOT = Path(__file__).resolve().parents[2]


def test_top_n_by_metric_matches_the_full_ordering(tracker: mlops.Tracker) -> None:
    values = [0.5, 0.5, None, 0.1, float("nan"), 0.9, 0.5, None, 0.3]
    for i, v in enumerate(values):
        with mlops.start_run(experiment="e" if i % 3 else "f", seed=None) as run:
            if v is not None:
                run.log_metric("m", v)
            run.log_metric("other", i)
    store = tracker.store
    for order in ("-metrics.m", "metrics.m", "metrics.m DESC"):
        for where in (None, "experiment == 'e'", "metrics.other >= 2"):
            full = store.search_run_ids(where=where, order_by=order)  # no limit: general query
            for k in (1, 2, 4, 6, len(values) + 2):
                assert store.search_run_ids(where=where, order_by=order, limit=k) == full[:k]


def test_text_search_matches_name_experiment_and_tags(tracker: mlops.Tracker) -> None:
    ids = []
    for name, exp, tags in [
        ("alpha", "x", {}),
        (None, "beta_exp", {}),
        (None, "x", {"k": "GAMMA"}),
        ("50%_off", "x", {}),
    ]:
        with mlops.start_run(experiment=exp, name=name, tags=tags, seed=None) as run:
            ids.append(run.id)
    search = tracker.store.search_run_ids
    assert search(text="ALPHA") == [ids[0]]
    assert search(text="beta") == [ids[1]]
    assert search(text="gamm") == [ids[2]]
    assert search(text="%_") == [ids[3]]  # LIKE wildcards are matched literally
    assert search(text="k") == [ids[2]]  # a tag key


def test_installed_config_enables_the_extension() -> None:
    """The install itself (editable included) put the config file where Jupyter reads it."""
    import sys

    installed = Path(sys.prefix, "etc/jupyter/jupyter_server_config.d/jupyter_mlops.json")
    assert installed.is_file(), "pip install -e . should install the server config file"
    config = json.loads(installed.read_text())
    enabled = config["ServerApp"]["jpserver_extensions"]
    (module,) = [m for m, on in enabled.items() if on]
    points = importlib.import_module(module)._jupyter_server_extension_points()
    for point in points:
        assert callable(importlib.import_module(point["module"])._load_jupyter_server_extension)


def test_core_views_import_no_front_end() -> None:
    import subprocess
    import sys

    code = (
        "import sys, jupyter_mlops.views, jupyter_mlops.views.actions; "
        "print(sorted(m for m in ('tornado', 'jupyter_server', 'IPython', 'ipywidgets') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bad", ["nothex", "A" * 32, "0" * 31])
def test_a_preassigned_run_id_must_be_32_hex_digits(tracker: mlops.Tracker, bad: str) -> None:
    with pytest.raises(mlops.MLOpsError, match="32 lowercase hex"):
        tracker.start_run(run_id=bad, seed=None)
