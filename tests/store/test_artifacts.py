"""Artifact stores (a local directory and a real S3 server) and the safe model format.

The S3 cases run against SeaweedFS (``s3_server`` in conftest), with real signed requests."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import jupyter_mlops as mlops
from jupyter_mlops.config import load_settings
from jupyter_mlops.entities import RunKind
from jupyter_mlops.exceptions import (
    ConfigError,
    StoreError,
    StoreUnavailableError,
    UntrustedModelError,
)
from jupyter_mlops.model_format import CLOUDPICKLE, SKOPS, format_of
from jupyter_mlops.pipeline.retention import collect_garbage
from jupyter_mlops.registry import ModelRegistry
from jupyter_mlops.store import open_store
from jupyter_mlops.store.artifacts import (
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    sha_of,
)
from jupyter_mlops.tracking import reset_default_tracker


def _calls(store: ArtifactStore, operation: str) -> list[str]:
    """Records each ``operation`` (PutObject, GetObject …) the S3 client sends from now on."""
    seen: list[str] = []
    assert isinstance(store, S3ArtifactStore)
    store.client.meta.events.register(
        f"before-call.s3.{operation}", lambda **_: seen.append(operation)
    )
    return seen


def _s3_object(tracker_store: Any, sha: str) -> bytes | None:
    """The raw object behind ``sha`` in the bucket (None when absent), read around our store."""
    arts = tracker_store.artifacts
    try:
        return bytes(arts.client.get_object(Bucket=arts.bucket, Key=arts._key(sha))["Body"].read())
    except arts.client.exceptions.NoSuchKey:
        return None


def _replace_blob(arts: ArtifactStore, sha: str, data: bytes) -> None:
    """What someone with write access to the store does: other bytes under the same name."""
    if isinstance(arts, S3ArtifactStore):
        arts.client.put_object(Bucket=arts.bucket, Key=arts._key(sha), Body=data)
        arts.cache.delete(sha)  # another machine: nothing cached yet
    else:
        assert isinstance(arts, LocalArtifactStore)
        arts._path_for(sha).write_bytes(data)


@pytest.fixture(autouse=True)
def untrusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """No trusted publishers here (conftest trusts the suite's user): the refusals are tested."""
    monkeypatch.delenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", raising=False)


@pytest.fixture
def arts(artifact_backend: str, tmp_path: Path) -> ArtifactStore:
    settings = load_settings()
    store = open_store(settings.store, artifacts=settings.artifact_store)
    assert store.artifacts.is_local == (artifact_backend == "local")
    return store.artifacts


# -- the interface, on both backends -----------------------------------------------------------


def test_put_read_and_upload_once(arts: ArtifactStore, tmp_path: Path) -> None:
    data = b"content " * 1000
    puts = _calls(arts, "PutObject") if isinstance(arts, S3ArtifactStore) else []
    sha, size, uri = arts.put_bytes(data)
    assert (sha, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert uri == f"artifacts/{sha[:2]}/{sha}" and sha_of(uri) == sha  # the same on every backend
    stamp = arts._path_for(sha).stat().st_mtime_ns if isinstance(arts, LocalArtifactStore) else 0
    assert arts.put_bytes(data) == (sha, size, uri)
    if isinstance(arts, S3ArtifactStore):
        assert puts == ["PutObject"]  # the second put found the object and sent nothing
    else:
        assert arts._path_for(sha).stat().st_mtime_ns == stamp
    assert arts.exists(sha) and arts.size(sha) == size
    assert arts.read_bytes(uri, sha) == data
    f = tmp_path / "big.bin"
    f.write_bytes(np.random.default_rng(0).bytes(3 << 20))
    fsha, fsize, furi = arts.put_file(f)
    assert fsize == f.stat().st_size and fsha == hashlib.sha256(f.read_bytes()).hexdigest()
    assert arts.local_path(furi, fsha).read_bytes() == f.read_bytes()
    assert {sha, fsha} <= set(arts.iter_shas())
    assert arts.delete(sha) == size and not arts.exists(sha) and arts.delete(sha) == 0
    with pytest.raises(StoreError, match="missing from"):
        arts.read_bytes(uri, sha)
    assert sha not in set(arts.iter_shas())
    with pytest.raises(StoreError, match="Invalid artifact uri"):
        arts.read_bytes("artifacts/../../etc/passwd", sha)


def test_a_changed_blob_is_refused_and_never_cached(arts: ArtifactStore) -> None:
    sha, _size, uri = arts.put_bytes(b"the model")
    _replace_blob(arts, sha, b"another model")
    with pytest.raises(StoreError, match="does not match its recorded sha256"):
        arts.read_bytes(uri, sha)
    if isinstance(arts, S3ArtifactStore):  # a file for a caller: downloaded, checked, refused
        with pytest.raises(StoreError, match="does not match its recorded sha256"):
            arts.local_path(uri, sha)
        assert not arts.cache.exists(sha)  # the swapped bytes never reached the cache


# The cases of a team store only: the object store's.
team_store = pytest.mark.parametrize("artifact_backend", ["s3"], indirect=True)


@team_store
def test_s3_reads_each_blob_once_per_machine(arts: ArtifactStore) -> None:
    assert isinstance(arts, S3ArtifactStore)
    sha, _size, uri = arts.put_bytes(b"a dataset")
    # A colleague's machine: its own cache, nothing downloaded yet.
    other = S3ArtifactStore(arts.location, arts.cache.root.parent / "other-cache")
    gets = _calls(other, "GetObject")
    first = other.local_path(uri, sha)
    assert other.read_bytes(uri, sha) == b"a dataset" and other.local_path(uri, sha) == first
    assert gets == ["GetObject"]
    assert first.is_relative_to(other.cache.root)


def test_s3_errors_are_one_line_and_never_show_the_secret(
    s3_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-1234")
    arts = S3ArtifactStore(f"s3://{s3_server.bucket}/wrong-key", tmp_path / "cache")
    with pytest.raises(StoreUnavailableError) as err:
        arts.put_bytes(b"x")
    text = str(err.value)
    assert "S3 said 403" in text and "AWS_SECRET_ACCESS_KEY" in text
    assert "not-the-secret-1234" not in text and s3_server.secret_key not in text
    assert "\n" not in text and s3_server.endpoint.removeprefix("http://") in arts.describe()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    missing = S3ArtifactStore("s3://no-such-bucket-here/x", tmp_path / "cache2")
    with pytest.raises(StoreUnavailableError, match="NoSuchBucket; create the bucket"):
        missing.put_bytes(b"x")
    with pytest.raises(ConfigError, match="without credentials"):
        S3ArtifactStore(f"s3://user:pw@{s3_server.bucket}/p", tmp_path)


# -- settings and wiring -------------------------------------------------------------------------


def test_the_base_class_still_makes_a_local_store(tmp_path: Path) -> None:
    arts = ArtifactStore(tmp_path / "blobs")  # as before the interface: code calling it works
    assert isinstance(arts, LocalArtifactStore) and arts.root == tmp_path / "blobs"
    sha, _size, uri = arts.put_bytes(b"x")
    assert arts.resolve(uri) == tmp_path / "blobs" / sha[:2] / sha and arts.is_local


def test_artifact_store_setting_from_pyproject_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JUPYTER_MLOPS_ARTIFACTS", raising=False)
    assert load_settings().artifact_store is None
    (tmp_path / "pyproject.toml").write_text(
        '[tool.jupyter_mlops]\nartifact_store = "blobs"\ntrusted_publishers = ["ana", "bo"]\n'
    )
    settings = load_settings()
    assert settings.artifact_store == str(tmp_path / "blobs")
    assert settings.trusted_publishers == ("ana", "bo")
    monkeypatch.setenv("JUPYTER_MLOPS_ARTIFACTS", "s3://team/mlops")
    monkeypatch.setenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", "cy")
    settings = load_settings()
    assert settings.artifact_store == "s3://team/mlops" and settings.trusted_publishers == ("cy",)
    # A local directory elsewhere: the run store's rows, blobs in that directory.
    monkeypatch.setenv("JUPYTER_MLOPS_ARTIFACTS", str(tmp_path / "shared"))
    reset_default_tracker()
    with mlops.start_run() as run:
        art = run.log_bytes(b"elsewhere", "x.bin")
    assert (tmp_path / "shared" / art.uri.removeprefix("artifacts/")).read_bytes() == b"elsewhere"
    assert not (tmp_path / ".mlops" / art.uri).exists()
    monkeypatch.setenv("JUPYTER_MLOPS_ARTIFACTS", "gs://bucket")
    reset_default_tracker()
    with pytest.raises(ConfigError, match="Unknown artifact store 'gs'"):
        mlops.default_tracker()


# -- models ---------------------------------------------------------------------------------------


def _fit(model: Any) -> Any:
    X = np.random.default_rng(0).normal(size=(80, 3))
    return model.fit(X, (X[:, 0] > 0).astype(int)), X


def _register(model: Any, name: str) -> tuple[Any, str]:
    with mlops.start_run(experiment=name) as run:
        art = run.log_model(model)
    mv = ModelRegistry().register(name, mlops.get_run(run.id), "model")
    return mv, art.sha256


def test_sklearn_models_go_to_skops_and_load_from_any_store(artifact_backend: str) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model, X = _fit(make_pipeline(StandardScaler(), LogisticRegression()))
    mv, sha = _register(model, "churn")
    store = mlops.default_tracker().store
    data = store.artifacts.read_bytes(mv.artifact_uri, sha)
    assert format_of(data) == SKOPS
    if artifact_backend == "s3":
        assert _s3_object(store, sha) == data  # uploaded to the bucket, not to .mlops
    # skops trusts every type in it: no trust=True needed, even from a team store.
    loaded = mlops.load_model("churn", mv.version)
    assert (loaded.predict(X) == model.predict(X)).all()


def _double(X: Any) -> Any:
    return X * 2


def test_estimators_holding_code_of_their_own_stay_cloudpickle(tmp_path: Path) -> None:
    """skops would store ``_double`` by reference to this module, which a pipeline kernel or a
    server may not have; cloudpickle stores it by value."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from jupyter_mlops.model_format import dumps

    model, X = _fit(make_pipeline(FunctionTransformer(_double), LogisticRegression()))
    assert format_of(dumps(model)) == CLOUDPICKLE
    assert format_of(dumps(_fit(LogisticRegression())[0])) == SKOPS
    mv, _sha = _register(model, "custom")
    assert (mlops.load_model("custom", mv.version).predict(X) == model.predict(X)).all()


def test_cloudpickle_models_from_a_team_store_need_trust(
    artifact_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_MLOPS_USER", "ana")
    mv, sha = _register({"weights": [1, 2, 3]}, "plain")  # not an estimator: cloudpickle
    store = mlops.default_tracker().store
    assert format_of(store.artifacts.read_bytes(mv.artifact_uri, sha)) == CLOUDPICKLE
    if artifact_backend == "local":  # the local disk this store wrote: loads as before
        assert mlops.load_model("plain", mv.version) == {"weights": [1, 2, 3]}
        return
    with pytest.raises(UntrustedModelError) as err:
        mlops.load_model("plain", mv.version)
    assert str(err.value) == (
        "Refusing to unpickle model plain@1 (published by ana) from a team store: a pickle runs "
        "code when loaded and anyone who can write the store could have planted it; if you "
        "trust its publisher, load it with mlops.load_model('plain', 1, trust=True) or add its "
        "publisher to trusted_publishers in [tool.jupyter_mlops]"
    )
    assert mlops.load_model("plain", mv.version, trust=True) == {"weights": [1, 2, 3]}
    monkeypatch.setenv("JUPYTER_MLOPS_TRUSTED_PUBLISHERS", "bo,ana")
    reset_default_tracker()
    assert mlops.load_model("plain", mv.version) == {"weights": [1, 2, 3]}


def test_tree_models_from_a_team_store_name_the_untrusted_type(artifact_backend: str) -> None:
    from sklearn.tree import DecisionTreeClassifier

    model, X = _fit(DecisionTreeClassifier(max_depth=3, random_state=0))
    mv, sha = _register(model, "tree")
    store = mlops.default_tracker().store
    assert format_of(store.artifacts.read_bytes(mv.artifact_uri, sha)) == SKOPS
    if artifact_backend == "s3":
        with pytest.raises(UntrustedModelError, match=r"skops does not trust \(sklearn.tree"):
            mlops.load_model("tree", mv.version)
    loaded = mlops.load_model("tree", mv.version, trust=artifact_backend == "s3")
    assert (loaded.predict(X) == model.predict(X)).all()


def test_pickles_from_a_database_server_need_trust(store: Any) -> None:
    """Runs on every store backend: a PostgreSQL store's rows can point at any blob, so it is a
    team store even with local artifacts; the embedded store loads its own pickles."""
    mv, _sha = _register({"weights": [4]}, "plain")
    if store.dialect.name == "sqlite":
        assert mlops.load_model("plain", mv.version) == {"weights": [4]}
    else:
        with pytest.raises(UntrustedModelError, match="trust=True"):
            mlops.load_model("plain", mv.version)
    assert mlops.load_model("plain", mv.version, trust=True) == {"weights": [4]}


class _Planted:
    """Unpickling this creates ``path``: what a malicious pickle's payload would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


def _plant(name: str, data: bytes) -> int:
    """Put ``data`` in the artifact store and register it as a version of ``name`` under a
    run of its own, as someone with write access to a team store could: a valid-looking row
    whose recorded sha256 matches the planted bytes."""
    with mlops.start_run(experiment=name) as run:
        pass
    store = mlops.default_tracker().store
    sha, size, uri = store.artifacts.put_bytes(data)
    return store.register_model(name, run.id, uri, sha, size, {}, [], None, "mallory").version


@team_store
def test_a_planted_pickle_in_the_object_store_is_never_run(
    artifact_backend: str, tmp_path: Path
) -> None:
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(_Planted(live)))  # the payload works: unpickling creates its file
    assert live.exists()
    marker = tmp_path / "pwned"
    version = _plant("churn", pickle.dumps(_Planted(marker)))
    with pytest.raises(UntrustedModelError, match=r"^Refusing to unpickle model churn@1 "):
        mlops.load_model("churn", version)
    # Serving goes through the same loader.
    with pytest.raises(UntrustedModelError):
        ModelRegistry().load("churn@1")
    assert not marker.exists()
    # The hash comes first: bytes swapped under the row are refused even with trust=True.
    store = mlops.default_tracker().store
    mv = store.get_model("churn", version)
    _replace_blob(store.artifacts, mv.artifact_sha, pickle.dumps(_Planted(marker)) + b" ")
    with pytest.raises(StoreError, match="does not match its recorded sha256"):
        mlops.load_model("churn", version, trust=True)
    assert not marker.exists()


def _tampered_skops(module: str, cls: str) -> bytes:
    from sklearn.linear_model import LogisticRegression
    from skops.io import dumps

    original = dumps(_fit(LogisticRegression())[0])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.namelist():
            content = src.read(item)
            if item == "schema.json":
                schema = json.loads(content)
                schema["__module__"], schema["__class__"] = module, cls
                content = json.dumps(schema).encode()
            dst.writestr(item, content)
    return out.getvalue()


@team_store
def test_a_skops_file_tampered_with_an_untrusted_type_is_refused(artifact_backend: str) -> None:
    version = _plant("churn", _tampered_skops("subprocess", "Popen"))
    with pytest.raises(UntrustedModelError) as err:
        mlops.load_model("churn", version)
    assert "skops does not trust (subprocess.Popen)" in str(err.value)
    assert "trust=True" in str(err.value) and "\n" not in str(err.value)


# -- retention over the interface ----------------------------------------------------------------


def test_gc_deletes_old_outputs_from_the_artifact_store(artifact_backend: str) -> None:
    tracker = mlops.default_tracker()
    arts = []
    for i in range(3):
        with tracker.start_run(experiment="nightly", kind=RunKind.PIPELINE) as run:
            arts.append(run.log_bytes(f"<html>report {i}</html>".encode(), "r.html", "report"))
            run.log_model({"v": i})
    store, outputs = tracker.store, tracker.project.outputs_dir
    dry = collect_garbage(store, keep=1, outputs_dir=outputs, dry_run=True)
    old = arts[:2]
    assert dry.bytes_freed == sum(a.size for a in old) and dry.files == 2
    assert all(store.artifacts.exists(a.sha256) for a in arts)  # a dry run deletes nothing
    done = collect_garbage(store, keep=1, outputs_dir=outputs)
    assert (done.bytes_freed, done.files, len(done.deleted)) == (dry.bytes_freed, 2, 2)
    assert [store.artifacts.exists(a.sha256) for a in arts] == [False, False, True]
    if artifact_backend == "s3":
        assert _s3_object(store, old[0].sha256) is None
    assert collect_garbage(store, keep=1, outputs_dir=outputs).bytes_freed == 0


# -- a pipeline on a team store -------------------------------------------------------------------


@team_store
@pytest.mark.slow
def test_a_pipeline_keeps_its_artifacts_in_s3_and_its_model_loads(
    artifact_backend: str, tmp_path: Path
) -> None:
    """The kernel (another process) writes to the bucket from the same settings; the gates load
    the candidate and the blessed model from it; the blessed skops model loads without trust."""
    import shutil

    from jupyter_mlops.pipeline import promote
    from jupyter_mlops.pipeline.runner import run_pipeline

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    shutil.copy(notebooks / "train_ok.ipynb", tmp_path / "train_ok.ipynb")
    gates = [
        {"kind": "metric", "metric": "accuracy", "min": 0.8},
        {"kind": "no_regression", "metric": "accuracy"},
    ]
    name = promote(tmp_path / "train_ok.ipynb", gates=gates, timeout="5m").spec.name
    first = run_pipeline(name, progress=False, seed=1)
    second = run_pipeline(name, progress=False, seed=1)
    assert first.blessed and second.model is not None
    store = mlops.default_tracker().store
    kinds = {a.kind for r in (first.run, second.run) for a in mlops.get_run(r.id).artifacts}
    assert {"notebook", "model"} <= kinds
    for a in mlops.get_run(first.run.id).artifacts:
        assert _s3_object(store, a.sha256) is not None  # in the bucket
        assert not (tmp_path / ".mlops" / a.uri).exists()  # and not in the local store
    assert [g.status.value for g in second.gates if g.kind == "no_regression"] == ["pass"]
    assert not [n for n in second.notes if "could not be loaded" in n]
    assert mlops.load_model(name).predict is not None


def test_an_artifact_download_serves_only_the_recorded_blob(
    artifact_backend: str, tmp_path: Path
) -> None:
    from jupyter_mlops.exceptions import NotFoundError
    from jupyter_mlops.views import artifact_file

    tracker = mlops.default_tracker()
    with tracker.start_run() as run:
        art = run.log_bytes(b"the report", "report.txt")
    got = artifact_file(tracker, run.id, "report.txt")
    with got.file as f:
        assert f.read() == b"the report" and got.size == len(b"the report")
    secret = tmp_path / "secret.txt"
    secret.write_text("not an artifact")
    blob = tracker.store.artifacts.resolve(art.uri)  # the stored file, or the cached copy
    blob.unlink()
    blob.symlink_to(secret)
    with pytest.raises(NotFoundError, match="has no artifact 'report.txt'"):
        artifact_file(tracker, run.id, "report.txt")
