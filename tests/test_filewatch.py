"""Which files a tracked cell reads (``tracking.filewatch``): the open functions are wrapped
only while a collection is active, and no audit hook is ever installed (an audit hook cannot
be removed and is called for every ``id()`` of a training loop, tracked or not)."""

from __future__ import annotations

import builtins
import io
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_mlops as mlops
from jupyter_mlops.tracking import filewatch
from jupyter_mlops.tracking.filewatch import FileCollector, files_opened

ORIGINALS = (builtins.open, io.open, os.open)


def _originals_back() -> bool:
    return (builtins.open, io.open, os.open) == ORIGINALS and not filewatch.wrapped()


def test_reads_are_collected_and_writes_are_not(tmp_path: Path) -> None:
    read = [tmp_path / f"read{i}.txt" for i in range(4)]
    for p in read:
        p.write_text("x")
    with files_opened() as found:
        with open(read[0]) as f:
            f.read()
        with io.open(read[1], mode="rb") as g:  # noqa: UP020  - io.open is wrapped too
            g.read()
        read[2].read_text()
        os.close(os.open(read[3], os.O_RDONLY))
        with open(tmp_path / "written.txt", "w") as h:
            h.write("y")
        os.close(os.open(tmp_path / "made.txt", os.O_WRONLY | os.O_CREAT))
        with open(tmp_path / "appended.txt", "a+"):
            pass
        with open(os.open(read[0], os.O_RDONLY)) as fd:  # a descriptor: no path to note
            fd.read()
    assert sorted(found) == [str(p.resolve()) for p in read]
    assert _originals_back()


def test_the_open_functions_are_put_back_after_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), files_opened():
        assert filewatch.wrapped()
        open(tmp_path / "missing.csv")  # noqa: SIM115
    assert _originals_back()


def test_no_audit_hook_is_ever_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    added: list[object] = []
    monkeypatch.setattr(sys, "addaudithook", added.append)
    (tmp_path / "a.txt").write_text("a")
    with files_opened() as found:
        (tmp_path / "a.txt").read_text()
    assert found and added == []


def test_nested_collectors_each_see_their_own_period(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    for p in (a, b, c):
        p.write_text(p.name)
    outer = FileCollector().start()
    a.read_text()
    inner = FileCollector().start()
    b.read_text()
    assert inner.stop_and_drain() == [str(b.resolve())]
    assert filewatch.wrapped()  # the outer collection goes on
    c.read_text()
    assert outer.stop_and_drain() == [str(p.resolve()) for p in (a, b, c)]
    assert _originals_back()


def test_an_open_replaced_by_the_user_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")

    def mine(*args, **kwargs):
        return ORIGINALS[0](*args, **kwargs)

    with files_opened():
        builtins.open = mine  # the user's own patch, made inside the cell
    try:
        assert builtins.open is mine  # not undone by us
        assert io.open is ORIGINALS[1]
    finally:
        builtins.open = ORIGINALS[0]


READ_MODES = ("r", "rb", "rt", "br")
WRITE_MODES = ("w", "wb", "a", "ab", "x", "xb", "r+", "rb+", "w+", "a+")


@settings(max_examples=30, deadline=None)
@given(mode=st.sampled_from(READ_MODES + WRITE_MODES), n=st.integers(0, 10_000))
def test_a_file_is_an_input_only_when_opened_for_reading(
    tmp_path_factory: pytest.TempPathFactory, mode: str, n: int
) -> None:
    folder = tmp_path_factory.mktemp("modes")
    path = folder / f"f{n}.bin"
    if "x" not in mode:
        path.write_bytes(b"data")
    with files_opened() as found, open(path, mode):
        pass
    assert found == ([str(path.resolve())] if mode in READ_MODES else [])


def test_a_tracked_cell_records_what_the_notebooks_open_reads(shell, tmp_path: Path) -> None:
    """IPython puts its own ``open`` in a notebook's namespace; what it reads is seen too, and
    a failing ``open`` shows the same traceback frames as untracked."""
    (tmp_path / "notes.txt").write_text("hello")
    assert shell.user_ns["open"] is not builtins.open
    shell.run("%%track -e files\nwith open('notes.txt') as f:\n    text = f.read()")
    run = mlops.get_run(mlops.runs(experiment="files")["id"].iloc[0])
    assert [d.name for d in run.inputs if d.fingerprint.kind == "file"] == ["notes.txt"]
    assert _originals_back()

    def frames(code: str) -> list[str]:
        result = shell.run_cell(code)
        error = result.error_in_exec
        assert isinstance(error, FileNotFoundError)
        tb = shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
        return [re.sub(r"In\[\d+\]", "In[n]", part) for part in tb]

    plain = frames("open('missing.txt')")
    tracked = frames("%%track -e files\nopen('missing.txt')")
    assert tracked == plain and not any("jupyter_mlops" in part for part in tracked)
    assert _originals_back() and "showtraceback" not in vars(shell)
