"""Data versions (store/columns.py) against DVC and against plain Parquet, in the same run.

    python benchmarks/bench_data_versions.py [--mb 1000] [--versions 30] [--formats]

A frame of ``--mb`` MB (12 float64 and 4 int64 columns of random values, a categorical, an
object string column)
goes through ``--versions`` versions; each edits one column or appends 1 % of rows (in turn).

- storage: our artifact directory vs DVC's cache (the real ``dvc`` from PyPI in its own venv,
  ``benchmarks/.venvs/dvc``; ``dvc add`` of a Parquet file per version in a scratch git repo);
  target <= 1/10;
- time to keep a version (``put_frame`` with the previous version as hint) vs writing the frame
  once to Parquet with pyarrow (its defaults); target <= 1.5x, over all versions;
- time to get a version back (``get_frame``, verified against the fingerprint) vs
  ``pyarrow.parquet.read_table(...).to_pandas()``; target <= 1.2x, over all versions.

``--formats`` first compares the chunk formats on the base frame: Arrow IPC and Parquet, both
with zstd (write, read, bytes), which decided store/chunks.py's choice.

The machine may be shared: run it alone for figures to quote. Measured on a 2-core machine
shared with other jobs (load ~12), ``--mb 200 --versions 30 --formats`` (278 MB in memory):
storage 503 MB vs DVC 6,243 MB (0.081x); keep 1.04 s vs Parquet write 4.00 s (0.26x); get
3.15 s vs Parquet read 3.75 s (0.84x). ``--mb 1000 --versions 6`` (1.39 GB in memory; only 6
versions for time, so the first version's full cost weighs 5 times more than in 30): storage
1,045 MB vs DVC 5,806 MB (0.18x, target not met at 6 versions); keep 5.2 s vs 15.2 s (0.34x);
get 13.5 s vs 13.5 s (1.00x).
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peer_venv import PeerVenv
from report import print_table, result

DVC = PeerVenv(Path(__file__).parent / ".venvs" / "dvc", "DVC", ["dvc==3.67.1"], "import dvc.repo")


def make_frame(mb: int) -> Any:
    import numpy as np
    import pandas as pd

    rows = mb * 1_000_000 // (16 * 8 + 1 + 8)  # 16 numeric columns, a categorical, strings
    rng = np.random.default_rng(0)
    cols: dict[str, Any] = {f"f{k}": rng.normal(size=rows) for k in range(12)}
    cols |= {f"i{k}": rng.integers(0, 2**40, rows) for k in range(4)}
    cols["cat"] = pd.Categorical.from_codes(rng.integers(0, 20, rows), [f"c{i}" for i in range(20)])
    cols["s"] = pd.Series(rng.choice(["alpha", "beta", "gamma", "delta"], rows), dtype=object)
    return pd.DataFrame(cols)


def next_version(df: Any, i: int) -> Any:
    """Version ``i``: odd ones append 1 % rows, even ones edit one numeric column."""
    import pandas as pd

    if i % 2:
        extra = df.iloc[: max(len(df) // 100, 1)]
        return pd.concat([df, extra], ignore_index=True)
    col = f"f{(i // 2) % 12}"
    return df.assign(**{col: df[col] + 1.0})


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_formats(df: Any) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pa.table({"v": pa.array(df[c].array)}) for c in df.columns]

    def ipc(t: Any) -> bytes:
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_stream(sink, t.schema, options=options) as w:
            w.write_table(t)
        return bytes(sink.getvalue().to_pybytes())

    def parquet(t: Any) -> bytes:
        buf = io.BytesIO()
        pq.write_table(t, buf, compression="zstd")
        return buf.getvalue()

    def read_ipc(b: bytes) -> Any:
        return pa.ipc.open_stream(pa.py_buffer(b)).read_all().to_pandas()

    def read_parquet(b: bytes) -> Any:
        return pq.read_table(pa.py_buffer(b)).to_pandas()

    out = []
    for name, write, read in (("Arrow IPC", ipc, read_ipc), ("Parquet", parquet, read_parquet)):
        t0 = time.perf_counter()
        blobs = [write(t) for t in tables]
        t1 = time.perf_counter()
        for b in blobs:
            read(b)
        t2 = time.perf_counter()
        size = sum(map(len, blobs))
        note = f"write {t1 - t0:.2f} s, read {t2 - t1:.2f} s"
        out.append(result(f"chunk format {name} + zstd: bytes", size, "B", None, "", None, note))
    return out


def dvc_repo(scratch: Path) -> tuple[str, Path] | None:
    """A scratch git + DVC repo and the ``dvc`` command; None when DVC could not be installed."""
    python = DVC.python()
    if python is None:
        return None
    repo = scratch / "dvc-repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc = str(python.parent / "dvc")
    subprocess.run([dvc, "init", "-q"], cwd=repo, check=True)
    return dvc, repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the frame (default 200)")
    parser.add_argument("--versions", type=int, default=30)
    parser.add_argument("--formats", action="store_true", help="compare chunk formats first")
    args = parser.parse_args()

    import pyarrow as pa
    import pyarrow.parquet as pq

    from jupyter_mlops.store.artifacts import LocalArtifactStore
    from jupyter_mlops.store.columns import dedup_stats, get_frame, put_frame

    scratch = Path(tempfile.mkdtemp(prefix="bench-data-versions-"))
    try:
        df = make_frame(args.mb)
        mb = df.memory_usage(deep=True).sum() / 1e6
        print(f"frame: {len(df):,} rows x {df.shape[1]} columns, {mb:,.0f} MB in memory")
        results = bench_formats(df) if args.formats else []
        arts = LocalArtifactStore(scratch / "ours")
        dvc = dvc_repo(scratch)
        once = dvc[1] / "data.parquet" if dvc else scratch / "once.parquet"
        manifests: list[Any] = []
        keep_s = parquet_s = get_s = read_s = 0.0
        for i in range(args.versions):
            df = df if i == 0 else next_version(df, i)
            t0 = time.perf_counter()
            manifests.append(put_frame(arts, df, previous=manifests[-1:]))
            t1 = time.perf_counter()
            pq.write_table(pa.Table.from_pandas(df), once)
            t2 = time.perf_counter()
            get_frame(arts, manifests[-1])
            t3 = time.perf_counter()
            pq.read_table(once).to_pandas()
            t4 = time.perf_counter()
            keep_s, parquet_s = keep_s + t1 - t0, parquet_s + t2 - t1
            get_s, read_s = get_s + t3 - t2, read_s + t4 - t3
            if dvc:  # DVC versions the very Parquet file the baseline wrote
                subprocess.run([dvc[0], "add", "-q", once.name], cwd=dvc[1], check=True)
            print(f"version {i + 1}/{args.versions}: {len(df):,} rows", flush=True)
        ours = du(scratch / "ours")
        stats = dedup_stats(manifests)
        dvc_bytes = du(dvc[1] / ".dvc" / "cache") if dvc else None
        n = args.versions
        results += [
            result(
                f"storage of {n} versions: ours vs DVC cache",
                ours,
                "B",
                dvc_bytes,
                "<= 1/10",
                None if dvc_bytes is None else ours <= dvc_bytes / 10,
                f"logical {stats.logical_bytes:,} B, saved {stats.saved_bytes:,} B"
                + ("" if dvc_bytes is not None else f"; {DVC.why_not}"),
            ),
            result(
                "keep a version (put_frame) vs Parquet write",
                keep_s / n,
                "s",
                parquet_s / n,
                "<= 1.5x",
                keep_s <= 1.5 * parquet_s,
            ),
            result(
                "get a version (get_frame, verified) vs Parquet read",
                get_s / n,
                "s",
                read_s / n,
                "<= 1.2x",
                get_s <= 1.2 * read_s,
            ),
        ]
        print_table(results)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
