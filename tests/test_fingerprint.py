"""Fingerprints: content hashes that change with any change of content, schema or order, and
stay put for copies and for equal data built differently."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops.exceptions import FingerprintError
from jupyter_mlops.hashing import FingerprintCache, fingerprint, fingerprint_file, is_data

ROOT = Path(__file__).resolve().parents[1]


def h(obj: object) -> str:
    return fingerprint(obj).hash


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.arange(6, dtype=np.int64),
            "f": [0.5, np.nan, 2.0, 3.0, -1.0, 7.25],
            "s": ["a", "", None, "dd", "e", "ff"],
            "b": [True, False, True, True, False, False],
            "t": pd.date_range("2024-01-01", periods=6, freq="D"),
        }
    )


# --- DataFrames ----------------------------------------------------------------------------------


def test_frame_fingerprint_has_parts_schema_and_shape() -> None:
    fp = fingerprint(frame())
    assert fp.kind == "dataframe"
    assert len(fp.hash) == 32 and int(fp.hash, 16) >= 0
    assert fp.shape == (6, 5)
    assert list(fp.parts) == ["i", "f", "s", "b", "t", "index"]
    assert fp.schema == {
        "i": "int64",
        "f": "float64",
        "s": "str",
        "b": "bool",
        "t": "datetime64[us]",
    }
    assert fp.nbytes >= 6 * 8 * 2


def test_copies_and_frames_built_differently_hash_alike() -> None:
    df = frame()
    assert h(df.copy()) == h(df) == h(df.copy(deep=True))
    rebuilt = pd.concat([df.iloc[:2], df.iloc[2:5], df.iloc[5:]])
    assert rebuilt["s"].array._pa_array.num_chunks == 3  # the str column really is chunked
    assert h(rebuilt) == h(df)
    # An int64 Index 0..n equals a RangeIndex, as pandas' equals() says.
    assert h(df.set_axis(pd.Index(np.arange(6), dtype="int64"))) == h(df)


@pytest.mark.parametrize(
    "change",
    [
        lambda df: df.assign(i=df["i"].replace(5, 6)),  # one value, last row
        lambda df: df.assign(f=df["f"].fillna(0.0)),  # NaN vs a value
        lambda df: df.assign(s=df["s"].replace("", None)),  # '' vs missing
        lambda df: df.assign(i=df["i"].astype("int32")),  # dtype, same numbers
        lambda df: df.assign(i=df["i"].astype("float64")),
        lambda df: df.rename(columns={"i": "j"}),
        lambda df: df[["f", "i", "s", "b", "t"]],  # column order
        lambda df: df.iloc[[1, 0, 2, 3, 4, 5]].reset_index(drop=True),  # row order
        lambda df: df.set_axis(range(1, 7)),  # index values
        lambda df: df.rename_axis("row"),  # index name
        lambda df: df.assign(t=df["t"].dt.tz_localize("UTC")),
        lambda df: df.iloc[:5],
    ],
)
def test_any_change_changes_the_hash(change) -> None:  # type: ignore[no-untyped-def]
    df = frame()
    assert h(change(df)) != h(df)


def test_changed_parts_name_the_column() -> None:
    df = frame()
    other = df.copy()
    other.loc[3, "f"] = 3.5
    assert fingerprint(other).changed_parts(fingerprint(df)) == ["f"]
    assert fingerprint(df.set_axis(range(10, 16))).changed_parts(fingerprint(df)) == ["index"]


def test_column_named_index_and_duplicate_columns_keep_distinct_parts() -> None:
    df = pd.DataFrame([[1, 2, 3]], columns=["index", "a", "a"])
    fp = fingerprint(df)
    assert list(fp.parts) == ["index", "a", "a (2)", "index (frame index)"]
    assert len(set(fp.parts.values())) == 4


def test_strided_columns_hash_like_contiguous_ones() -> None:
    values = np.arange(3 * 200_000, dtype=np.float64).reshape(-1, 3)  # C order: columns strided
    from_2d = pd.DataFrame(values, columns=list("abc"), copy=False)
    from_dict = pd.DataFrame({c: np.ascontiguousarray(values[:, k]) for k, c in enumerate("abc")})
    assert not from_2d["a"].to_numpy().flags.c_contiguous
    assert h(from_2d) == h(from_dict)


def test_frame_column_and_standalone_array_are_told_apart() -> None:
    values = np.array([1.0, 2.0, 3.0])
    df = pd.DataFrame({"x": values})
    hashes = {h(df), h(df["x"]), h(values), h(pd.Index(values)), h(values.tobytes())}
    assert len(hashes) == 5
    assert fingerprint(df["x"]).kind == "series"


def test_nan_bit_patterns_are_canonical_but_negative_zero_is_not() -> None:
    a = np.array([1.0, np.nan, 3.0] * 100_000)
    b = a.copy()
    b[1::3] = -np.nan  # the sign bit set, as 0.0/0.0 gives on x86
    assert a.tobytes() != b.tobytes()
    assert h(a) == h(b)
    assert h(pd.DataFrame({"x": a})) == h(pd.DataFrame({"x": b}))
    assert h(np.array([0.0])) != h(np.array([-0.0]))
    c = np.array([complex(np.nan, 1.0), 2j])
    d = np.array([complex(-np.nan, 1.0), 2j])
    assert h(c) == h(d) != h(np.array([complex(1.0, np.nan), 2j]))


def test_masked_dtypes_ignore_the_data_under_the_mask() -> None:
    mask = np.array([False, True, False])
    a = pd.arrays.IntegerArray(np.array([1, 2, 3]), mask)
    b = pd.arrays.IntegerArray(np.array([1, 99, 3]), mask)
    assert h(pd.Series(a)) == h(pd.Series(b))
    assert h(pd.Series(a)) != h(pd.Series(pd.array([1, 2, 3], dtype="Int64")))
    assert h(pd.Series(a)) != h(pd.Series([1, 2, 3], dtype="Float64").astype("Int64"))
    nan_not_na = pd.arrays.FloatingArray(np.array([1.5, 0.0, np.nan]), mask)
    assert h(pd.Series(nan_not_na)) != h(pd.Series(pd.array([1.5, None, None], dtype="Float64")))
    bools = pd.arrays.BooleanArray(np.array([True, False]), np.array([False, True]))
    assert h(pd.Series(bools)) == h(pd.Series(pd.array([True, None], dtype="boolean")))


def test_arrow_primitive_columns_ignore_values_under_nulls() -> None:
    def series(values: list[int]) -> pd.Series:
        arr = pa.array(values, pa.int64())
        masked = pa.Array.from_buffers(
            arr.type, 3, [pa.array([True, False, True]).buffers()[1], *arr.buffers()[1:]]
        )
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([masked])))

    assert h(series([1, 2, 3])) == h(series([1, 7, 3]))
    assert h(series([1, 2, 3])) != h(pd.Series([1, 0, 3], dtype="int64[pyarrow]"))
    chunked = pd.concat(
        [pd.Series([1, None], dtype="int64[pyarrow]"), pd.Series([3], dtype="int64[pyarrow]")],
        ignore_index=True,
    )
    assert h(chunked) == h(pd.Series([1, None, 3], dtype="int64[pyarrow]"))
    empty = pa.Array.from_buffers(pa.int64(), 0, [None, None])  # a chunk with no buffers
    with_empty = pd.arrays.ArrowExtensionArray(pa.chunked_array([empty, pa.array([1, None, 3])]))
    assert h(pd.Series(with_empty)) == h(pd.Series([1, None, 3], dtype="int64[pyarrow]"))
    assert h(pd.Series([[1], None], dtype=pd.ArrowDtype(pa.list_(pa.int64())))) != h(
        pd.Series([[2], None], dtype=pd.ArrowDtype(pa.list_(pa.int64())))
    )


def test_categorical_hashes_categories_and_codes() -> None:
    cat = pd.Series(["a", "b", "a"], dtype="category")
    assert h(cat) == h(pd.Series(pd.Categorical(["a", "b", "a"])))
    assert h(cat) != h(cat.cat.rename_categories({"a": "z"}))
    assert h(cat) != h(pd.Series(["a", "b", "b"], dtype="category"))
    assert h(cat) != h(cat.cat.as_ordered())
    assert h(cat) != h(cat.astype("str"))


# --- strings -------------------------------------------------------------------------------------


def test_arrow_strings_ignore_chunking_and_offsets() -> None:
    values = ["x", "", None, "yyy", "é", "zz"]
    whole = pd.Series(values, dtype="str")
    chunked = pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(values[:2]), pa.array(values[2:])])),
        dtype="str",
    )
    sliced = pd.Series(["junk", *values], dtype="str").iloc[1:].reset_index(drop=True)
    assert sliced.array._pa_array.chunk(0).offset == 1
    assert h(whole) == h(chunked) == h(sliced)
    large = pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(values, pa.large_string())])),
        dtype="str",
    )
    assert h(whole) == h(large)


def test_a_null_spanning_bytes_is_still_just_a_null() -> None:
    plain = pa.array(["ab", "cd", "ef"])
    validity = pa.array([True, False, True]).buffers()[1]
    dirty = pa.Array.from_buffers(
        pa.string(), 3, [validity, *plain.buffers()[1:]]
    )  # null over "cd"
    clean = pa.array(["ab", None, "ef"])
    as_series = [
        pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([a]))) for a in (dirty, clean)
    ]
    assert h(as_series[0]) == h(as_series[1])


def test_string_storage_and_na_flavours() -> None:
    values = ["a", None, "b"]
    python = pd.Series(values, dtype=pd.StringDtype("python"))
    arrow = pd.Series(values, dtype=pd.StringDtype("pyarrow"))
    assert h(python) == h(arrow)
    assert h(arrow) != h(pd.Series(values, dtype="str"))  # NA vs NaN semantics: another dtype
    assert h(pd.Series(["a", "\ud800"], dtype=pd.StringDtype("python"))) != h(python)


def test_object_columns_tell_empty_none_nan_and_na_apart() -> None:
    def obj(*values: object) -> str:
        array = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            array[i] = value
        return h(pd.Series(array, dtype=object))

    assert (
        len({obj("a", ""), obj("a", None), obj("a", np.nan), obj("a", pd.NA), obj("a", pd.NaT)})
        == 5
    )
    assert obj("a", b"a") != obj("a", "a")  # bytes are not str
    assert obj("a", 1) != obj("a", "1") != obj("a", 1.0)
    assert obj(0, False) != obj(0, 0)
    assert obj({1, 2, "x"}) == obj({"x", 2, 1})
    assert obj(np.arange(3)) != obj(np.arange(3.0))
    assert obj("a", "b") == h(pd.Series(["a", "b"], dtype=object))


def test_object_ndarrays_and_numpy_string_dtype() -> None:
    objects = np.array(["a", None, 3, (1, "x"), {"k": [1.5]}], dtype=object)
    assert h(objects) == h(objects.copy())
    changed = objects.copy()
    changed[4] = {"k": [1.25]}
    assert h(changed) != h(objects)
    strings = np.array(["a", "bc"], dtype=np.dtypes.StringDType())
    assert (
        h(strings) == h(strings.copy()) != h(np.array(["a", "bd"], dtype=np.dtypes.StringDType()))
    )
    assert h(np.array(["a", "bc"])) != h(np.array(["a", "bc"], dtype="U3"))


# --- Index ---------------------------------------------------------------------------------------


def test_range_index_is_cheap_and_not_confusable() -> None:
    fp = fingerprint(pd.RangeIndex(0, 3))
    assert fp.kind == "index" and fp.nbytes == 0
    assert h(pd.RangeIndex(0, 3)) == h(pd.Index([0, 1, 2]))
    assert h(pd.RangeIndex(0, 3)) != h(pd.Index([0, 3, 1]))
    assert h(pd.RangeIndex(0, 3)) != h(pd.Index([0, 1, 2], dtype="int32"))
    assert h(pd.RangeIndex(0, 3)) != h(pd.RangeIndex(0, 6, 2))
    assert h(pd.RangeIndex(0, 0)) == h(pd.RangeIndex(5, 5)) != h(pd.Index([], dtype=object))
    assert h(pd.RangeIndex(4, 5)) == h(pd.RangeIndex(4, 9, 7))  # both are just [4]
    big = np.arange(0, 3_000_000, 3)
    assert h(pd.Index(big)) == h(pd.RangeIndex(0, 3_000_000, 3))
    big[-2] += 1  # endpoints still fit a range; the full check must catch it
    assert h(pd.Index(big)) != h(pd.RangeIndex(0, 3_000_000, 3))


def test_multiindex_hashes_level_values() -> None:
    mi = pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])
    sliced = mi[:2]  # keeps the unused level value "b"
    assert len(sliced.levels[0]) == 2
    fresh = pd.MultiIndex.from_arrays([["a", "a"], [1, 2]], names=["k", "n"])
    assert h(sliced) == h(fresh)
    assert h(mi) != h(mi.set_names(["k", "m"]))
    assert h(mi) != h(mi[[1, 0, 2, 3]])
    df = pd.DataFrame({"v": range(4)}, index=mi)
    assert h(df) != h(df.reset_index(level="n"))
    assert h(pd.DatetimeIndex(["2024-01-01"])) != h(pd.Index(["2024-01-01"]))


# --- ndarray, bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a[::2],  # strided
        lambda a: a.reshape(500, -1).T,  # transposed
        lambda a: np.asfortranarray(a.reshape(-1, 3)),
        lambda a: np.asfortranarray(a.reshape(3, -1)),  # rows bigger than a gather block
        lambda a: a.reshape(10, 30, -1)[:, ::3, 1:],
    ],
)
def test_non_contiguous_arrays_hash_like_their_c_copy(make) -> None:  # type: ignore[no-untyped-def]
    base = np.random.default_rng(1).random(600_000)
    base[::7] = np.nan
    view = make(base)
    assert not view.flags.c_contiguous
    assert h(view) == h(np.ascontiguousarray(view))
    assert fingerprint(view).nbytes == view.nbytes


def test_array_dtype_shape_and_kinds() -> None:
    a = np.arange(12, dtype=np.int64)
    assert h(a) != h(a.astype(np.int32)) != h(a.astype(np.float64))
    assert h(a) != h(a.reshape(3, 4)) != h(a.reshape(4, 3))
    assert h(a.view("datetime64[s]")) != h(a.view("timedelta64[s]")) != h(a)
    assert h(np.array(5)) != h(np.array([5]))
    fp = fingerprint(a.reshape(3, 4))
    assert (fp.kind, fp.shape, fp.schema) == ("ndarray", (3, 4), {"values": "int64"})


def test_structured_arrays_ignore_padding() -> None:
    dt = np.dtype([("x", "u1"), ("y", "f8")], align=True)  # 7 padding bytes per record
    a = np.zeros(4, dtype=dt)
    raw = np.frombuffer(bytearray(range(64)), dtype=dt)  # garbage in the padding
    raw["x"], raw["y"] = a["x"], a["y"]  # writes the fields only
    assert not np.array_equal(a.view(np.uint8), raw.view(np.uint8))
    assert h(a) == h(raw)
    raw["y"][2] = 1.0
    assert h(a) != h(raw)


def test_masked_arrays_hash_mask_and_visible_data() -> None:
    a = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    b = np.ma.masked_array([1.0, 9.0, 3.0], mask=[False, True, False], fill_value=-1.0)
    assert h(a) == h(b)
    assert h(a) != h(a.data) != h(np.ma.masked_array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: pd.DataFrame(),
        lambda: pd.DataFrame({"a": pd.Series([], dtype="str")}),
        lambda: pd.Series([pd.Interval(0, 1), pd.Interval(1, 2)]),
        lambda: pd.Series(pd.period_range("2024-01", periods=3, freq="M")),
        lambda: pd.Series(pd.to_timedelta([1, 2], unit="s")),
        lambda: pd.Series(pd.arrays.SparseArray([0.0, 0.0, 1.5])),
        lambda: pd.Series([1.5, None], dtype="float64[pyarrow]"),
        lambda: pd.Series([True, None], dtype="bool[pyarrow]"),
        lambda: pd.Series(["x", None], dtype="large_string[pyarrow]"),
        lambda: pd.Series([b"x", None], dtype=pd.ArrowDtype(pa.binary())),
        lambda: pd.date_range("2024-01-01", periods=3, tz="Europe/Paris"),
        lambda: pd.CategoricalIndex(["a", "b", "a"]),
        lambda: pd.interval_range(0, 3),
        lambda: np.array(3.5),
        lambda: np.empty((0, 4)),
        lambda: np.array([1 + 2j, np.nan], dtype=np.complex64),
        lambda: np.array([1.5, np.nan], dtype=np.float16),
        lambda: np.array([b"ab", b"c"]),
    ],
)
def test_every_supported_dtype_is_deterministic(make) -> None:  # type: ignore[no-untyped-def]
    first, second = fingerprint(make()), fingerprint(make())
    assert first == second
    assert len(first.hash) == 32


def test_bytes_like_objects() -> None:
    data = b"hello world" * 100
    assert h(data) == h(bytearray(data)) == h(memoryview(data)) == xxhash.xxh3_128_hexdigest(data)
    strided = memoryview(np.frombuffer(data, dtype=np.uint8))[::2]
    assert h(strided) == h(data[::2])
    assert fingerprint(data).kind == "bytes" and fingerprint(data).nbytes == len(data)


# --- files ---------------------------------------------------------------------------------------


def write(path: Path, data: bytes, mtime_ns: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_file_fingerprint_is_xxh3_of_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # several read chunks
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    fp = fingerprint_file(path, cache=FingerprintCache())
    assert (fp.kind, fp.hash, fp.nbytes) == ("file", xxhash.xxh3_128_hexdigest(data), len(data))
    assert fp.path == os.path.abspath(path)
    monkeypatch.chdir(tmp_path)
    relative = fingerprint("data.bin", cache=FingerprintCache())
    assert (relative.path, relative.hash) == (os.path.abspath(path), fp.hash)


def test_unchanged_file_is_served_from_the_cache(tmp_path: Path) -> None:
    cache = FingerprintCache()
    path = tmp_path / "a.csv"
    old = time.time_ns() - 60 * 10**9  # well outside the racy window
    write(path, b"x,y\n1,2\n", old)
    first = fingerprint(path, cache=cache)
    assert (cache.hits, cache.misses) == (0, 1)
    assert fingerprint(path, cache=cache) == first
    assert (cache.hits, cache.misses) == (1, 1)
    write(path, b"x,y\n1,3\n", old + 10**9)  # same size, new mtime
    assert fingerprint(path, cache=cache).hash != first.hash
    assert (cache.hits, cache.misses) == (1, 2)


def test_racily_clean_file_is_rehashed(tmp_path: Path) -> None:
    cache = FingerprintCache()
    path = tmp_path / "a.csv"
    now = time.time_ns()
    write(path, b"aaaa", now)
    first = fingerprint_file(path, cache=cache)
    # Rewritten within the same timestamp tick: size and mtime (and inode) are unchanged.
    write(path, b"bbbb", now)
    second = fingerprint_file(path, cache=cache)
    assert second.hash == xxhash.xxh3_128_hexdigest(b"bbbb") != first.hash
    assert cache.hits == 0
    # Once the window has passed, the entry is trusted.
    trusting = FingerprintCache(racy_window_s=0.0)
    fingerprint_file(path, cache=trusting)
    fingerprint_file(path, cache=trusting)
    assert trusting.hits == 1


def test_missing_file_and_directory_errors(tmp_path: Path) -> None:
    with pytest.raises(FingerprintError, match="not found: .*nope.csv"):
        fingerprint(str(tmp_path / "nope.csv"))
    with pytest.raises(FingerprintError, match="Not a regular file"):
        fingerprint(tmp_path)


# --- in-memory cache -----------------------------------------------------------------------------


def test_only_provably_immutable_arrays_are_cached() -> None:
    cache = FingerprintCache()
    frozen = np.frombuffer(bytes(range(256)) * 64, dtype=np.float64)
    first = fingerprint(frozen, cache=cache)
    assert fingerprint(frozen, cache=cache) is first
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)

    frozen.shape = (64, -1)  # in place: the version check notices
    assert fingerprint(frozen, cache=cache).shape == (64, 32)
    assert cache.misses == 2

    writable = np.zeros(10)
    before = fingerprint(writable, cache=cache)
    writable[3] = 1.0  # an in-place write: nothing cheap would reveal it
    assert fingerprint(writable, cache=cache) != before
    flagged = np.zeros(10)
    view = flagged[:]
    flagged.setflags(write=False)
    before = fingerprint(flagged, cache=cache)
    view[0] = 1.0  # still writable through an earlier view
    assert fingerprint(flagged, cache=cache) != before
    assert (cache.hits, cache.misses) == (1, 2)


def test_cache_keeps_nothing_alive() -> None:
    cache = FingerprintCache()
    arr = np.frombuffer(b"\x00" * 800, dtype=np.int64)
    fingerprint(arr, cache=cache)
    assert len(cache) == 1
    del arr
    gc.collect()
    assert len(cache) == 0


def test_pandas_objects_are_always_rehashed() -> None:
    cache = FingerprintCache()
    df = frame()
    before = fingerprint(df, cache=cache)
    df.loc[0, "i"] = 100
    assert fingerprint(df, cache=cache) != before
    assert len(cache) == 0


# --- types, is_data, import cost -----------------------------------------------------------------


def test_unsupported_type_names_the_type_and_what_is_supported() -> None:
    with pytest.raises(FingerprintError, match=r"Cannot fingerprint list; supported: pandas"):
        fingerprint([1, 2, 3])
    with pytest.raises(TypeError):  # FingerprintError is a TypeError too
        fingerprint(object())


def test_is_data() -> None:
    df = frame()
    assert is_data(df) and is_data(df["i"]) and is_data(np.zeros(1))
    assert is_data(np.ma.masked_array([1, 2]))  # a subclass
    for other in (1, "x", [1], {"a": 1}, pd.Index([1]), np.float64(1.0), None, b"x", frame):
        assert not is_data(other)


def test_a_change_deep_in_a_large_frame_is_seen() -> None:
    # MLflow's dataset digest hashes only the first 10,000 rows; ours sees row 50,000.
    big = pd.DataFrame({"x": np.arange(100_000, dtype="float64"), "s": ["a"] * 100_000})
    before = fingerprint(big)
    changed = big.copy()
    changed.loc[50_000, "x"] = -1.0
    after = fingerprint(changed)
    assert after.hash != before.hash
    assert after.changed_parts(before) == ["x"]
    text = big.copy()
    text.loc[50_000, "s"] = "b"
    assert fingerprint(text).changed_parts(before) == ["s"]


def test_import_does_not_load_numpy_or_pandas() -> None:
    code = (
        "import sys; import jupyter_mlops.hashing as f\n"
        "assert not f.is_data(1) and not f.is_data([1.0])\n"
        "print(sorted({'numpy', 'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


# --- properties ----------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
column_values = st.sampled_from(["int", "float", "str"])


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 8))
    kinds = draw(st.lists(column_values, min_size=1, max_size=4))
    data: dict[str, list[object]] = {}
    for k, kind in enumerate(kinds):
        values = {
            "int": st.integers(-(2**63), 2**63 - 1),
            "float": st.one_of(finite, st.just(float("nan"))),
            "str": st.one_of(st.none(), st.text(max_size=5)),
        }[kind]
        data[f"c{k}"] = draw(st.lists(values, min_size=rows, max_size=rows))
    dtypes = {"int": "int64", "float": "float64", "str": "str"}
    return pd.DataFrame(
        {c: pd.Series(v, dtype=dtypes[kinds[k]]) for k, (c, v) in enumerate(data.items())}
    )


fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(frames(), st.data())
def test_property_copy_and_rechunk_equal(df: pd.DataFrame, data: st.DataObject) -> None:
    split = data.draw(st.integers(0, len(df)))
    assert h(df.copy()) == h(df)
    assert h(pd.concat([df.iloc[:split], df.iloc[split:]])) == h(df)


@fast
@given(frames(), st.data())
def test_property_single_cell_change_differs(df: pd.DataFrame, data: st.DataObject) -> None:
    row = data.draw(st.integers(0, len(df) - 1))
    col = data.draw(st.integers(0, df.shape[1] - 1))
    old = df.iat[row, col]
    if df.dtypes.iloc[col] == "int64":
        new: object = old + 1 if old < 2**63 - 1 else old - 1
    elif df.dtypes.iloc[col] == "float64":
        new = 0.5 if old != 0.5 else 1.5
    else:
        new = "" if pd.isna(old) else None if old == "" else old + "x"
    changed = df.copy()
    changed.iat[row, col] = new
    assert h(changed) != h(df)


@fast
@given(frames(), st.randoms(use_true_random=False))
def test_property_row_permutation_differs_unless_identical(df: pd.DataFrame, rnd) -> None:  # type: ignore[no-untyped-def]
    order = list(range(len(df)))
    rnd.shuffle(order)
    permuted = df.iloc[order].reset_index(drop=True)
    assert (h(permuted) == h(df)) == permuted.equals(df)
