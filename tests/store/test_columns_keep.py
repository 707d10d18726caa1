"""mlops.log_dataset(..., keep=True) keeps a dataset version on the run, mlops.load_dataset
gets it back exactly; on both artifact backends."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.exceptions import NotFoundError, StoreError
from jupyter_mlops.store import open_store
from jupyter_mlops.store.columns import read_dataset
from jupyter_mlops.store.manifest import Manifest
from jupyter_mlops.store.migrate import migrate_store
from jupyter_mlops.store.sql import SQLStore


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 50),
            "bmi": rng.normal(25, 4, 50),
            "sex": pd.Categorical(rng.choice(["f", "m"], 50)),
            "note": pd.array(rng.choice(["a", None], 50), dtype="string"),
        }
    )
    df.index = pd.Index([f"p{i}" for i in range(50)], name="patient")
    return df


@pytest.mark.usefixtures("artifact_backend")
def test_a_kept_dataset_loads_back_exactly_and_shares_chunks() -> None:
    df = _frame()
    with mlops.start_run(experiment="keep") as first:
        fp = first.log_dataset("X_train", df, keep=True)
    with mlops.start_run(experiment="keep") as second:
        second.log_dataset("X_train", df.assign(bmi=df["bmi"] + 1), keep=True)
    back = mlops.load_dataset(first.id, "X_train")
    pd.testing.assert_frame_equal(back, df)
    assert fp.hash == mlops.fingerprint(back).hash
    store = mlops.default_tracker().store
    manifests = []
    for rid in (first.id, second.id):
        (art,) = [a for a in store.get_run(rid).artifacts if a.kind == "dataset"]
        manifests.append(Manifest.from_json(store.artifacts.read_bytes(art.uri, art.sha256)))
    changed = [
        a.label for a, b in zip(*(m.data for m in manifests), strict=True) if a.chunks != b.chunks
    ]
    assert changed == ["bmi"] and manifests[0].index_levels == manifests[1].index_levels
    with pytest.raises(NotFoundError, match="kept: X_train"):
        mlops.load_dataset(first.id, "nope")


def test_a_dataset_is_kept_only_when_asked_outside_pipelines() -> None:
    with mlops.start_run(experiment="keep") as run:
        run.log_dataset("X", _frame())
    with pytest.raises(NotFoundError, match="kept: none"):
        mlops.load_dataset(run.id, "X")


def test_parquet_datasets_of_older_runs_still_load() -> None:
    df = _frame()
    buf = io.BytesIO()
    df.to_parquet(buf)
    with mlops.start_run(experiment="old") as run:
        art = run.log_bytes(buf.getvalue(), "dataset:X", kind="dataset")
    pd.testing.assert_frame_equal(mlops.load_dataset(run.id, "X"), df)
    store = mlops.default_tracker().store
    other = store.artifacts.put_bytes(b'{"format": "something else"}')[0]
    with pytest.raises(StoreError, match="Not a dataset manifest"):
        read_dataset(store.artifacts, other)
    assert art.kind == "dataset"


def test_store_migrate_copies_a_kept_dataset_with_its_chunks(tmp_path: Path) -> None:
    df = _frame()
    with mlops.start_run(experiment="keep") as run:
        run.log_dataset("X", df, keep=True)
    source = mlops.default_tracker().store
    target = open_store(str(tmp_path / "target"), artifacts=str(tmp_path / "target-blobs"))
    assert isinstance(source, SQLStore) and isinstance(target, SQLStore)
    report = migrate_store(source, target)
    assert report.ok and report.verified, report.problems
    (art,) = [a for a in target.get_run(run.id).artifacts if a.kind == "dataset"]
    manifest = Manifest.from_json(target.artifacts.read_bytes(art.uri, art.sha256))
    assert report.artifacts_copied >= len(manifest.chunks()) + 1
    pd.testing.assert_frame_equal(read_dataset(target.artifacts, art.sha256), df)
