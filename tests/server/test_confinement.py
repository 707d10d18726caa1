"""No file endpoint serves a byte from outside the store, whatever links are planted in it:
every endpoint that answers with a file's content (an artifact, a pipeline's gate report, an
executed notebook) against a real jupyter_server."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import jupyter_mlops as mlops
from tests.server.shared_server import *  # noqa: F403  (one server for the module)

pytestmark = pytest.mark.slow

SECRET = "SECRET-outside-the-store"


def _outside(tmp_path: Path) -> Path:
    """A folder outside the store (``.mlops``) with a file no endpoint may serve."""
    out = tmp_path / "outside"
    out.mkdir(exist_ok=True)
    return out


def _blob(root: Path, run_id: str, name: str) -> Path:
    art = next(a for a in mlops.get_run(run_id).artifacts if a.name == name)
    return root / ".mlops" / art.uri


def _artifact_cases(project) -> list[tuple[str, str]]:
    return [(project.script[0], "notes.txt"), (project.pipeline[0], "gate-report.html")]


async def _refused(api, *parts: str) -> None:
    code, body = await api("runs", *parts)
    assert code == 404, (parts, body)
    assert SECRET not in json.dumps(body) and set(body) == {"error"}


async def test_a_linked_artifact_folder_leading_out_of_the_store_is_404(
    api, project, tmp_path: Path, jp_root_dir: Path
) -> None:
    for run_id, name in _artifact_cases(project):
        blob = _blob(jp_root_dir, run_id, name)
        folder = _outside(tmp_path) / blob.parent.name
        shutil.move(blob.parent, folder)  # the real blobs, out of the store, then a secret
        for f in folder.iterdir():
            f.write_text(SECRET)
        blob.parent.symlink_to(folder, target_is_directory=True)
        await _refused(api, run_id, "artifacts", name)
        # Even holding the recorded bytes, a blob outside the store is not served.
        blob.parent.unlink()
        shutil.copytree(folder, blob.parent)
        original = blob.read_bytes()
        for f in folder.iterdir():
            f.write_bytes(original)
        shutil.rmtree(blob.parent)
        blob.parent.symlink_to(folder, target_is_directory=True)
        await _refused(api, run_id, "artifacts", name)


async def test_a_linked_artifact_file_leading_out_of_the_store_is_404(
    api, project, tmp_path: Path, jp_root_dir: Path
) -> None:
    secret = _outside(tmp_path) / "secret.txt"
    secret.write_text(SECRET)
    for run_id, name in _artifact_cases(project):
        blob = _blob(jp_root_dir, run_id, name)
        blob.unlink()
        blob.symlink_to(secret)
        await _refused(api, run_id, "artifacts", name)


async def test_a_link_inside_the_store_is_followed_only_to_the_recorded_bytes(
    api, project, tmp_path: Path, jp_root_dir: Path
) -> None:
    run_id, name = project.script[0], "notes.txt"
    blob = _blob(jp_root_dir, run_id, name)
    moved = blob.parent.parent / "elsewhere"
    shutil.move(blob.parent, moved)
    blob.parent.symlink_to(moved, target_is_directory=True)  # still in the artifact store
    code, body = await api("runs", run_id, "artifacts", name)
    assert (code, body) == (200, "artifact body\n")  # hashed again: the recorded bytes
    (moved / blob.name).write_text(SECRET)  # changed behind the link: hashed, refused
    await _refused(api, run_id, "artifacts", name)


@pytest.mark.parametrize("what", ["file", "folder"])
async def test_a_linked_output_notebook_leading_out_of_the_store_is_404(
    api, project, tmp_path: Path, jp_root_dir: Path, what: str
) -> None:
    run_id = project.pipeline[0]
    nb = jp_root_dir / ".mlops" / "runs" / run_id / "output.ipynb"
    secret = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [], "x": SECRET}
    if what == "file":
        target = _outside(tmp_path) / "private.ipynb"
        target.write_text(json.dumps(secret))
        nb.unlink()
        nb.symlink_to(target)
    else:
        target = _outside(tmp_path) / run_id
        shutil.move(nb.parent, target)
        (target / "output.ipynb").write_text(json.dumps(secret))
        nb.parent.symlink_to(target, target_is_directory=True)
    await _refused(api, run_id, "notebook")
    code, run = await api("runs", run_id)
    assert code == 200 and run["output_notebook"] is False  # the detail agrees with the 404


async def test_a_link_swapped_in_after_the_artifact_was_opened_changes_nothing(
    project, tmp_path: Path, jp_root_dir: Path
) -> None:
    """The REST handler streams from the descriptor the view opened: a link planted between
    the view's open and the download (the handler's read, on another thread) is not seen."""
    from jupyter_mlops.views import artifact_file

    secret = _outside(tmp_path) / "secret.txt"
    secret.write_text(SECRET)
    run_id, name = project.script[0], "notes.txt"
    tracker = mlops.default_tracker()
    opened = artifact_file(tracker, run_id, name)
    blob = _blob(jp_root_dir, run_id, name)
    os.replace(_link_to(secret, blob.parent), blob)  # atomically: the blob is now a link out
    with opened.file as f:
        assert f.read() == b"artifact body\n"
    with pytest.raises(LookupError):
        artifact_file(tracker, run_id, name)


def _link_to(target: Path, folder: Path) -> Path:
    link = folder / ".link"
    link.symlink_to(target)
    return link
