"""Opening a store's file without leaving the store, links and races included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jupyter_mlops.exceptions import NotFoundError
from jupyter_mlops.store.confined import open_confined

SECRET = b"SECRET-outside-the-store"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    (root / "ab").mkdir(parents=True)
    (root / "ab" / "blob").write_bytes(b"stored")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "blob").write_bytes(SECRET)
    return root


def _read(root: Path, relative: str, **kw) -> tuple[bytes, bool]:
    opened = open_confined(root, relative, **kw)
    with opened.file as f:
        return f.read(), opened.linked


def test_a_regular_file_is_opened_directly(root: Path) -> None:
    assert _read(root, "ab/blob") == (b"stored", False)


@pytest.mark.parametrize("relative", ["../outside/blob", "/etc/passwd", "", "ab"])
def test_paths_that_are_not_a_file_under_the_root_are_not_found(root: Path, relative) -> None:
    with pytest.raises(NotFoundError):
        open_confined(root, relative)


def test_links_leading_out_of_the_root_are_refused(root: Path, tmp_path: Path) -> None:
    (root / "cd").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "ab" / "file-link").symlink_to(tmp_path / "outside" / "blob")
    (root / "ab" / "relative-link").symlink_to("../../outside/blob")
    for relative in ("cd/blob", "ab/file-link", "ab/relative-link"):
        with pytest.raises(NotFoundError, match="leads outside"):
            open_confined(root, relative)


def test_a_link_inside_the_root_is_followed_and_flagged(root: Path) -> None:
    (root / "cd").symlink_to(root / "ab", target_is_directory=True)
    assert _read(root, "cd/blob") == (b"stored", True)


def test_a_root_reached_through_a_link_is_the_root(root: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)  # e.g. .mlops on another disk
    assert _read(alias, "ab/blob") == (b"stored", False)


def test_a_folder_swapped_for_a_link_out_after_the_check_is_refused(
    root: Path, tmp_path: Path
) -> None:
    (root / "cd").symlink_to(root / "ab", target_is_directory=True)

    def swap() -> None:  # between the check of the target and the open
        os.rename(root / "ab", root / "ab-old")
        (root / "ab").symlink_to(tmp_path / "outside", target_is_directory=True)

    with pytest.raises(NotFoundError, match="changed into a symbolic link"):
        open_confined(root, "cd/blob", after_check=swap)


def test_a_file_swapped_for_a_link_out_after_the_check_is_refused(
    root: Path, tmp_path: Path
) -> None:
    (root / "ab" / "alias").symlink_to("blob")

    def swap() -> None:
        link = root / "ab" / ".tmp"
        link.symlink_to(tmp_path / "outside" / "blob")
        os.replace(link, root / "ab" / "blob")

    with pytest.raises(NotFoundError, match="changed into a symbolic link"):
        open_confined(root, "ab/alias", after_check=swap)


def test_a_file_replaced_after_the_check_is_refused(root: Path) -> None:
    (root / "ab" / "alias").symlink_to("blob")

    def replace() -> None:
        (root / "ab" / ".new").write_bytes(b"other")
        os.replace(root / "ab" / ".new", root / "ab" / "blob")

    with pytest.raises(NotFoundError, match="replaced while opened"):
        open_confined(root, "ab/alias", after_check=replace)


def test_an_opened_file_keeps_its_bytes_when_a_link_replaces_it(root: Path, tmp_path: Path) -> None:
    opened = open_confined(root, "ab/blob")
    link = root / "ab" / ".tmp"
    link.symlink_to(tmp_path / "outside" / "blob")
    os.replace(link, root / "ab" / "blob")
    with opened.file as f:
        assert f.read() == b"stored"


def test_only_regular_files_are_opened_and_a_fifo_does_not_hang(root: Path) -> None:
    os.mkfifo(root / "ab" / "fifo")
    with pytest.raises(NotFoundError, match="not a regular file"):
        open_confined(root, "ab/fifo")
    with pytest.raises(NotFoundError, match="does not exist"):
        open_confined(root, "ab/missing")
    with pytest.raises(NotFoundError, match="does not exist"):
        open_confined(root, "ab/blob/below-a-file")
