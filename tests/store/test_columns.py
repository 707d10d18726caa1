"""Column storage for data versions (store/columns.py), on a local directory and on a real S3
server (SeaweedFS): exact round trips, what a new version writes, verification, a killed
writer, and gc."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.config import load_settings
from jupyter_mlops.exceptions import StoreError, ValidationError
from jupyter_mlops.hashing import fingerprint
from jupyter_mlops.store import open_store
from jupyter_mlops.store.artifacts import ArtifactStore, LocalArtifactStore, S3ArtifactStore
from jupyter_mlops.store.chunks import encode_chunk
from jupyter_mlops.store.columns import (
    collect_chunks,
    dedup_stats,
    get_frame,
    load_manifest,
    put_frame,
    referenced_chunks,
)
from jupyter_mlops.store.manifest import Manifest
from tests.conftest import python_env


@pytest.fixture
def arts(artifact_backend: str) -> ArtifactStore:
    settings = load_settings()
    store = open_store(settings.store, artifacts=settings.artifact_store)
    assert store.artifacts.is_local == (artifact_backend == "local")
    return store.artifacts


def _round_trip(arts: ArtifactStore, df: pd.DataFrame, rows: int = 3) -> pd.DataFrame:
    m = put_frame(arts, df, rows_per_chunk=rows)
    back = get_frame(arts, load_manifest(arts, m.sha256))
    pd.testing.assert_frame_equal(back, df, check_exact=True, check_freq=False)  # freq: not data
    assert back.columns.equals(df.columns) and type(back.index) is type(df.index)
    assert fingerprint(back).hash == fingerprint(df).hash == m.fingerprint
    return back


N = 10
COLUMNS = {
    "float": lambda: np.r_[np.arange(N - 2, dtype=float), np.nan, np.inf],
    "int": lambda: np.arange(N, dtype=np.int64) * 2**40,
    "int8": lambda: np.arange(N, dtype=np.int8),
    "bool": lambda: np.arange(N) % 3 == 0,
    "Int64": lambda: pd.array([2**62, None] * (N // 2), dtype="Int64"),
    "boolean": lambda: pd.array([True, None] * (N // 2), dtype="boolean"),
    "Float64": lambda: pd.array([0.5, None] * (N // 2), dtype="Float64"),
    "category": lambda: pd.Categorical(list("abcab") * 2, categories=list("dcba"), ordered=True),
    "category-int": lambda: pd.Categorical([1, 2, None, 1, 2] * 2),
    "datetime-tz": lambda: pd.date_range("2024-03-30", periods=N, freq="7h", tz="Europe/Paris"),
    "datetime": lambda: pd.array(pd.date_range("2024", periods=N).insert(3, pd.NaT)[:N]),
    "timedelta": lambda: pd.to_timedelta(np.arange(N), unit="s"),
    "arrow-string": lambda: pd.array([*list("abcdefghi"), None], dtype="string[pyarrow]"),
    "python-string": lambda: pd.array([*list("abcdefghi"), None], dtype="string[python]"),
    "str": lambda: pd.Series([*list("abcdefgh"), None, "é"]),
    "object-string": lambda: pd.Series(["x", None, np.nan, pd.NA, "y"] * 2, dtype=object),
    "arrow-int": lambda: pd.array([*list(range(N - 1)), None], dtype="int64[pyarrow]"),
}


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_every_dtype_round_trips(arts: ArtifactStore, kind: str) -> None:
    df = pd.DataFrame({kind: COLUMNS[kind](), "other": np.arange(N)})
    _round_trip(arts, df)
    _round_trip(arts, df.iloc[:0])  # no rows: the dtype (categories) is still there


def test_indexes_and_column_labels_round_trip(arts: ArtifactStore) -> None:
    df = pd.DataFrame({0: np.arange(N), 1.5: np.ones(N), ("a", 1): list("abcdefghij")})
    df[None] = np.zeros(N)
    df.index = pd.MultiIndex.from_arrays(
        [np.arange(N) % 3, pd.date_range("2024", periods=N, tz="UTC")], names=["k", 7]
    )
    _round_trip(arts, df)
    named = pd.DataFrame(np.arange(N * 2).reshape(N, 2))  # NumPy's integer column names
    named.index = pd.Index(list("abcdefghij"), name="id")
    _round_trip(arts, named)
    step = pd.DataFrame({"x": np.arange(N)}, index=pd.RangeIndex(5, 5 + 3 * N, 3, name="r"))
    _round_trip(arts, step)
    dup = pd.DataFrame([[1, 2, 3]] * N, columns=["a", "a", "index"])
    _round_trip(arts, dup)
    levels = pd.DataFrame(
        np.ones((N, 2)), columns=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["n", 0])
    )
    _round_trip(arts, levels)


def test_what_cannot_be_stored_without_a_pickle_is_refused(arts: ArtifactStore) -> None:
    with pytest.raises(ValidationError, match="'mixed'.*astype"):
        put_frame(arts, pd.DataFrame({"mixed": pd.Series(["a", 1], dtype=object)}))
    with pytest.raises(ValidationError, match="rename the column"):
        put_frame(arts, pd.DataFrame({frozenset({1}): [1]}))
    with pytest.raises(ValidationError, match="rows_per_chunk"):
        put_frame(arts, pd.DataFrame({"a": [1]}), rows_per_chunk=0)


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "n": np.arange(rows),
            "c": pd.Categorical(rng.choice(list("abc"), rows)),
            "s": rng.choice(["red", "green"], rows).astype(object),
        }
    )


def test_a_column_edit_stores_one_new_column(arts: ArtifactStore) -> None:
    df = _frame(100)
    v1 = put_frame(arts, df, rows_per_chunk=30)
    before = set(arts.iter_shas())
    edited = df.assign(x=df["x"] * 2)
    v2 = put_frame(arts, edited, rows_per_chunk=30)  # no hint: equal chunks, equal blobs
    new = set(arts.iter_shas()) - before
    x_chunks = {c.sha256 for c in v2.data[0].chunks}
    assert new == x_chunks | {v2.sha256} and len(x_chunks) == 4
    assert v2.data[1:] == v1.data[1:]
    pd.testing.assert_frame_equal(get_frame(arts, v2), edited)
    again = put_frame(arts, edited, previous=[v2])  # with the hint: nothing encoded, same version
    assert again == v2 and set(arts.iter_shas()) - before == new


def test_an_appended_day_stores_only_new_chunks(arts: ArtifactStore) -> None:
    df = _frame(95)
    v1 = put_frame(arts, df, rows_per_chunk=20)  # chunks of 20, 20, 20, 20, 15 rows
    before = set(arts.iter_shas())
    day = pd.concat([df, _frame(30).set_index(pd.RangeIndex(95, 125))])
    v2 = put_frame(arts, day, previous=[v1])  # rows_per_chunk from v1: 6 x 20, 5
    new = set(arts.iter_shas()) - before
    for old, entry in zip(v1.data, v2.data, strict=True):
        assert entry.chunks[:4] == old.chunks[:4]  # the full chunks are the stored ones
        assert [c.rows for c in entry.chunks[4:]] == [20, 20, 5]
    assert len(new) == 4 * 3 + 1  # per column the rewritten last chunk, two new; the manifest
    pd.testing.assert_frame_equal(get_frame(arts, v2), day)


def test_verify_detects_a_changed_chunk(arts: ArtifactStore) -> None:
    df = _frame(40)
    m = put_frame(arts, df, rows_per_chunk=20)
    chunk = m.data[0].chunks[1]
    forged = encode_chunk(np.zeros(20), "x")  # a valid chunk, with other values
    if isinstance(arts, S3ArtifactStore):
        arts.client.put_object(Bucket=arts.bucket, Key=arts._key(chunk.sha256), Body=forged)
        arts.cache.delete(chunk.sha256)  # another machine: nothing cached yet
    else:
        assert isinstance(arts, LocalArtifactStore)
        arts._path_for(chunk.sha256).write_bytes(forged)
    with pytest.raises(StoreError, match="does not match its recorded"):
        get_frame(arts, m)


KILLED_WRITER = """
import os, signal, sys
import numpy as np, pandas as pd
from jupyter_mlops.config import load_settings
from jupyter_mlops.store import open_store
from jupyter_mlops.store.columns import put_frame

settings = load_settings()
arts = open_store(settings.store, artifacts=settings.artifact_store).artifacts
kill_at, puts = int(sys.argv[1]), [0]
real = arts.put_bytes
def put_bytes(data):
    puts[0] += 1
    if puts[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(data)
arts.put_bytes = put_bytes
df = pd.DataFrame({c: np.arange(1000) * i for i, c in enumerate("abcd")})
put_frame(arts, df.assign(tag=int(sys.argv[1])), rows_per_chunk=100)
print("finished")
"""


def _manifests(arts: ArtifactStore) -> list[Manifest]:
    found = []
    for sha in arts.iter_shas():
        try:
            found.append(Manifest.from_json(arts.read_bytes(arts.uri_for(sha), sha)))
        except StoreError:
            continue  # a chunk
    return found


@pytest.mark.parametrize("kill_at", [1, 17, 51])  # 5 columns x 10 chunks, then the manifest
def test_a_killed_writer_leaves_no_manifest_naming_a_missing_chunk(
    arts: ArtifactStore, kill_at: int
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(kill_at)],
        capture_output=True,
        text=True,
        env=python_env(),
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert _manifests(arts) == []  # killed before the manifest, even at the last put
    assert len(list(arts.iter_shas())) <= kill_at - 1  # equal chunks are one blob
    finished = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, "999"], capture_output=True, text=True,
        env=python_env(), timeout=120,
    )  # fmt: skip
    assert finished.stdout.strip() == "finished", finished.stderr
    (m,) = _manifests(arts)
    assert all(arts.exists(sha) for sha in referenced_chunks([m]))


def test_gc_never_frees_a_referenced_chunk(arts: ArtifactStore) -> None:
    df = _frame(60)
    v1 = put_frame(arts, df, rows_per_chunk=25)
    df2 = df.assign(x=df["x"] + 1)
    v2 = put_frame(arts, df2, previous=[v1])
    df3 = df2.assign(n=df["n"] + 1)
    v3 = put_frame(arts, df3, previous=[v2])
    stats = dedup_stats([v1, v2, v3])
    assert (
        stats.versions == 3 and stats.chunks == 3 * 4 * 3 and stats.unique_chunks == 4 * 3 + 3 + 3
    )
    assert stats.held_bytes < stats.logical_bytes and stats.saved_bytes > 0
    only_v1 = {c.sha256 for c in v1.data[0].chunks}  # v2 and v3 edited x
    assert collect_chunks(arts, drop=[v1], keep=[v2, v3], dry_run=True)[0] == len(only_v1) + 1
    files, freed = collect_chunks(arts, drop=[v1], keep=[v2, v3])
    assert files == len(only_v1) + 1 and freed > 0
    assert not any(arts.exists(sha) for sha in only_v1) and not arts.exists(v1.sha256)
    assert all(arts.exists(sha) for sha in referenced_chunks([v2, v3]))
    pd.testing.assert_frame_equal(get_frame(arts, v3), df3)
    with pytest.raises(StoreError, match="missing"):
        get_frame(arts, v1)


def test_damaged_manifests_are_one_line_store_errors(tmp_path: Path) -> None:
    arts = LocalArtifactStore(tmp_path)
    for data in (b"not json", b'{"format": "other"}', b'{"format": "jupyter-mlops/dataset@1"}'):
        sha, _, _ = arts.put_bytes(data)
        with pytest.raises(StoreError) as e:
            load_manifest(arts, sha)
        assert "\n" not in str(e.value)
