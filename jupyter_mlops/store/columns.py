"""Content-addressed column storage for data versions, over any artifact store (local or S3).

A frame is stored as chunks: each column (and each level of an index that is not a plain
range) is cut into runs of ``rows_per_chunk`` rows, counted from the first row, and each chunk
is one blob (:mod:`.chunks`), found again by its content digest (the per-column hash of the
fingerprint, over the chunk's rows and dtype). A version is a manifest (:mod:`.manifest`).

- An edited column writes that column's chunks; the others are the blobs already there.
- Appended rows write the last, partial chunk again and the new ones: chunks are aligned on
  row 0, so the earlier full chunks are unchanged.
- ``put_frame`` writes every chunk before the manifest, and each blob atomically (see
  :mod:`.artifacts`): a writer killed halfway leaves chunks no manifest names (gc takes them),
  never a manifest naming a chunk that is not there.
- ``get_frame`` checks the rebuilt frame against the fingerprint the manifest recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..bounds import check_int
from ..exceptions import StoreError, ValidationError
from ..hashing import fingerprint
from ..hashing.frames import column_digest
from .artifacts_local import ArtifactStore, uri_for
from .chunks import column_from_chunks, decode_chunk, encode_chunk
from .manifest import (
    ChunkRef,
    ColumnEntry,
    Manifest,
    decode_label,
    dtype_of,
    dtype_spec,
    encode_label,
)

if TYPE_CHECKING:
    import pandas as pd

# 256 Ki rows: 2 MiB for a float64 column, large enough that a blob's per-request cost (an S3
# PUT, a file creation) is small beside its bytes, small enough that an appended day rewrites
# little (the last, partial chunk of each column): with 1 Mi rows, a 1 % append to a 1 GB frame
# rewrote about 4 times the appended bytes (bench_data_versions.py).
ROWS_PER_CHUNK = 1 << 18
MAX_ROWS_PER_CHUNK = 1 << 26
_THREADS = 4  # zstd and sha256 release the GIL: chunks encode and decode side by side


def put_frame(
    artifacts: ArtifactStore,
    df: pd.DataFrame,
    *,
    rows_per_chunk: int | None = None,
    previous: Iterable[Manifest] = (),
) -> Manifest:
    """Store ``df`` as a dataset version: only chunks not already stored are written, then the
    manifest. ``previous`` (versions likely to share chunks, e.g. the dataset's last one) lets
    a chunk already stored be found by its digest without encoding it again; its
    ``rows_per_chunk`` is reused, so that chunks stay aligned with it."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"put_frame stores a pandas DataFrame, not {type(df).__name__}")
    previous = list(previous)
    known = {c.digest: c for m in previous for c in m.chunks()}
    if rows_per_chunk is None:
        rows_per_chunk = next((m.rows_per_chunk for m in previous), ROWS_PER_CHUNK)
    check_int(rows_per_chunk, "rows_per_chunk", 1, MAX_ROWS_PER_CHUNK)
    fp = fingerprint(df)
    index, levels = _index_levels(df.index)
    labels = [encode_label(x) for x in df.columns]
    jobs = [(encode_label(name), _unwrap(v)) for name, v in levels]
    jobs += [(label, _unwrap(df.iloc[:, i].array)) for i, label in enumerate(labels)]
    with ThreadPoolExecutor(_THREADS) as pool:
        store = _chunk_storer(artifacts, known)
        entries = [
            ColumnEntry(label, dtype_spec(values.dtype), tuple(pool.map(store, cuts)))
            for label, values in jobs
            for cuts in [_cuts(values, rows_per_chunk, str(label))]
        ]
    manifest = Manifest(
        rows=len(df),
        rows_per_chunk=rows_per_chunk,
        fingerprint=fp.hash,
        columns=_columns_spec(df.columns),
        index=index,
        data=tuple(entries[len(levels) :]),
        index_levels=tuple(entries[: len(levels)]),
    )
    artifacts.put_bytes(manifest.to_json())  # last: every chunk it names is stored
    return manifest


def _unwrap(values: Any) -> Any:
    """A NumPy-backed column as its ndarray (what the codec and the hash take as is)."""
    import pandas as pd

    if type(values) is pd.arrays.NumpyExtensionArray:  # not its subclass StringArray
        return values.to_numpy()
    return values


def _cuts(values: Any, rows: int, label: str) -> list[tuple[Any, str, str]]:
    """Rows ``[0, rows), [rows, 2 rows) ...`` of ``values``; one empty chunk for no rows, so
    that the dtype (a categorical's categories) is still stored."""
    n = len(values)
    dtype = str(values.dtype)
    return [(values[a : a + rows], dtype, label) for a in range(0, max(n, 1), rows)]


def _chunk_storer(
    artifacts: ArtifactStore, known: dict[str, ChunkRef]
) -> Callable[[tuple[Any, str, str]], ChunkRef]:
    def store(cut: tuple[Any, str, str]) -> ChunkRef:
        values, dtype, label = cut
        digest = column_digest(values, dtype)
        ref = known.get(digest)
        if ref is not None and artifacts.exists(ref.sha256):
            return ref
        data = encode_chunk(values, label)
        sha, size, _ = artifacts.put_bytes(data)  # a blob already there is not written again
        return ChunkRef(digest, sha, len(values), size, int(values.nbytes))

    return store


def _index_levels(index: pd.Index) -> tuple[dict[str, Any], list[tuple[Any, Any]]]:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return (
            {"kind": "range", "start": index.start, "step": index.step, "name": _name(index)},
            [],
        )
    names = [encode_label(n) for n in index.names]
    # level values, not levels + codes: as the fingerprint hashes them
    levels = [(name, _level(index, i).array) for i, name in enumerate(index.names)]
    multi = isinstance(index, pd.MultiIndex)
    return {"kind": "levels", "names": names, "multi": multi}, levels


def _level(index: pd.Index, i: int) -> pd.Index:
    """The values of level ``i`` by position (``get_level_values(0)`` means a level named 0)."""
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        multi: Any = index  # pandas-stubs do not declare the positional _get_level_values
        return multi._get_level_values(i)
    return index


def _name(index: pd.Index) -> Any:
    return encode_label(index.name)


def _columns_spec(columns: pd.Index) -> dict[str, Any]:
    import pandas as pd

    if isinstance(columns, pd.RangeIndex):
        return {
            "kind": "range",
            "start": columns.start,
            "step": columns.step,
            "name": _name(columns),
        }
    names = [encode_label(n) for n in columns.names]
    if isinstance(columns, pd.MultiIndex):
        dtypes = [dtype_spec(_level(columns, i).dtype) for i in range(columns.nlevels)]
        return {"kind": "multi", "names": names, "dtypes": dtypes}
    return {"kind": "labels", "names": names, "dtype": dtype_spec(columns.dtype)}


# --- getting a version back ----------------------------------------------------------------------


def load_manifest(artifacts: ArtifactStore, sha: str) -> Manifest:
    """The manifest stored as the blob ``sha`` (its sha256), checked against it."""
    return Manifest.from_json(artifacts.read_bytes(uri_for(sha), sha))


def read_dataset(artifacts: ArtifactStore, sha: str, *, verify: bool = True) -> pd.DataFrame:
    """The frame an artifact of kind ``dataset`` holds: a dataset version's manifest, or the
    whole Parquet file that runs stored before column storage (still read, never a pickle)."""
    import io

    import pandas as pd

    data = artifacts.read_bytes(uri_for(sha), sha)
    if data[:4] == b"PAR1":
        return pd.read_parquet(io.BytesIO(data))
    return get_frame(artifacts, Manifest.from_json(data), verify=verify)


def get_frame(artifacts: ArtifactStore, manifest: Manifest, *, verify: bool = True) -> pd.DataFrame:
    """The frame ``manifest`` describes, exactly (dtypes, index, column order); with ``verify``
    its fingerprint is checked against the recorded one (StoreError when a chunk changed)."""
    import pandas as pd

    with ThreadPoolExecutor(_THREADS) as pool:

        def read(entry: ColumnEntry) -> Any:
            blobs = pool.map(lambda c: _read_chunk(artifacts, c), entry.chunks)
            return column_from_chunks(list(blobs), entry.dtype)

        levels = [read(e) for e in manifest.index_levels]
        data = [read(e) for e in manifest.data]
    index = _rebuild_index(manifest, levels)
    # Series with their dtype: a DataFrame made of an object array would infer "str" from it
    columns = {i: pd.Series(v, dtype=v.dtype, copy=False) for i, v in enumerate(data)}
    df = pd.DataFrame(columns, copy=False)
    df.index = index
    df.columns = _rebuild_columns(manifest, [e.label for e in manifest.data])
    if verify and fingerprint(df).hash != manifest.fingerprint:
        raise StoreError(
            f"The dataset version {manifest.sha256[:12]} does not match its recorded "
            f"fingerprint {manifest.fingerprint[:12]}: a chunk was changed after it was "
            "written; log the dataset again"
        )
    return df


def _read_chunk(artifacts: ArtifactStore, ref: ChunkRef) -> Any:
    import pyarrow as pa

    with artifacts.open_blob(uri_for(ref.sha256), ref.sha256) as f:
        data = f.read()
    try:
        table = decode_chunk(data)
    except (pa.ArrowException, OSError) as e:
        raise StoreError(
            f"The stored chunk {ref.sha256[:12]} cannot be read ({type(e).__name__}); it was "
            "changed after it was written: log the dataset again"
        ) from None
    if table.num_rows != ref.rows:
        raise StoreError(f"The stored chunk {ref.sha256[:12]} has the wrong number of rows")
    return table


def _rebuild_index(manifest: Manifest, levels: list[Any]) -> pd.Index:
    import pandas as pd

    spec = manifest.index
    if spec["kind"] == "range":
        start, step = int(spec["start"]), int(spec["step"])
        name = decode_label(spec["name"])
        return pd.RangeIndex(start, start + manifest.rows * step, step, name=name)
    names = [decode_label(n) for n in spec["names"]]
    indexes = [
        pd.Index(v, dtype=v.dtype, name=n, copy=False) for v, n in zip(levels, names, strict=True)
    ]
    if spec["multi"]:
        return pd.MultiIndex.from_arrays(indexes, names=names)
    return indexes[0]


def _rebuild_columns(manifest: Manifest, labels: list[Any]) -> pd.Index:
    import pandas as pd

    spec = manifest.columns
    if spec["kind"] == "range":
        start, step = int(spec["start"]), int(spec["step"])
        stop = start + len(labels) * step
        return pd.RangeIndex(start, stop, step, name=decode_label(spec["name"]))
    names = [decode_label(n) for n in spec["names"]]
    decoded = [decode_label(x) for x in labels]
    if spec["kind"] == "multi":
        tuples = decoded or [()] * 0
        arrays = [
            pd.Index([t[i] for t in tuples], dtype=dtype_of(d), name=names[i])
            for i, d in enumerate(spec["dtypes"])
        ]
        return pd.MultiIndex.from_arrays(arrays, names=names)
    return pd.Index(decoded, dtype=dtype_of(spec["dtype"]), name=names[0])


# --- what versions hold --------------------------------------------------------------------------


@dataclass(frozen=True)
class DedupStats:
    """What a set of versions costs: ``held_bytes`` stored once per chunk (and manifest), against
    ``logical_bytes``, what storing every version whole (its chunks) would take."""

    versions: int
    chunks: int  # chunk references over all versions
    unique_chunks: int
    logical_bytes: int
    held_bytes: int

    @property
    def saved_bytes(self) -> int:
        return self.logical_bytes - self.held_bytes


def referenced_chunks(manifests: Iterable[Manifest]) -> set[str]:
    """The sha256 of every chunk blob the ``manifests`` name: what gc must keep."""
    return {c.sha256 for m in manifests for c in m.chunks()}


def dedup_stats(manifests: Iterable[Manifest]) -> DedupStats:
    versions = refs = logical = 0
    chunks: dict[str, int] = {}
    held_manifests: dict[str, int] = {}
    for m in manifests:
        versions += 1
        held_manifests[m.sha256] = len(m.to_json())
        logical += held_manifests[m.sha256]
        for c in m.chunks():
            refs += 1
            logical += c.size
            chunks[c.sha256] = c.size
    held = sum(chunks.values()) + sum(held_manifests.values())
    return DedupStats(versions, refs, len(chunks), logical, held)


def collect_chunks(
    artifacts: ArtifactStore,
    drop: Iterable[Manifest],
    keep: Iterable[Manifest],
    *,
    dry_run: bool = False,
) -> tuple[int, int]:
    """Delete the blobs (manifest and chunks) of the versions in ``drop`` that no version in
    ``keep`` references; (blobs, bytes) freed, or that would be with ``dry_run``."""
    keep, drop = list(keep), list(drop)
    kept = referenced_chunks(keep) | {m.sha256 for m in keep}
    doomed = referenced_chunks(drop) | {m.sha256 for m in drop}
    files = freed = 0
    for sha in sorted(doomed - kept):
        size = artifacts.size(sha) if dry_run else artifacts.delete(sha)
        if size:
            files += 1
            freed += size
    return files, freed
