"""Open a file of the store for reading without ever leaving the store's directory.

Front-ends serve files the store holds (artifact blobs, executed notebooks) to whoever may use
the REST API. A symbolic link planted under the store (``.mlops/artifacts/<xx>`` pointing at
another folder, ``output.ipynb`` at a private file) must not turn that into a way to read any
file of the machine, and checking a path first and opening it afterwards would leave a window
in which a link can be swapped in. So:

- the file is opened one component at a time from a descriptor of the root, each with
  ``O_NOFOLLOW`` (``openat``): a link anywhere below the root is never followed by the open;
- only when a component *is* a link is the path resolved (``realpath``): a target outside the
  root is refused, one inside is opened by the same walk along the resolved path, so a link
  swapped in after that check is refused too, and the file opened must be the one checked
  (same ``st_dev``/``st_ino``). The caller learns that it came through a link (``linked``):
  the artifact store then hashes the content again before anyone reads it;
- only regular files are opened (``O_NONBLOCK``, so a FIFO cannot hang the caller).

Everything is then read from the returned descriptor, never from the path again.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from ..exceptions import NotFoundError, StoreUnavailableError

# What an open along the path answers when it meets a link: ELOOP for the last component
# (O_NOFOLLOW), ENOTDIR for a directory component (O_DIRECTORY on a link to one).
_LINK_ERRNOS = (errno.ELOOP, errno.ENOTDIR)
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_ROOT = _DIR & ~os.O_NOFOLLOW


@dataclass
class ConfinedFile:
    """A regular file opened under a root: read ``file`` (then close it), not ``path``."""

    file: BinaryIO
    path: Path  # where it was, all links resolved: under the root
    size: int
    linked: bool  # reached through a symbolic link that stays under the root


class _Link(Exception):
    """A component of the path is a symbolic link (the walk does not follow it)."""


def open_confined(
    root: str | os.PathLike[str],
    relative: str | PurePath,
    *,
    after_check: Callable[[], object] | None = None,
) -> ConfinedFile:
    """Open ``root/relative`` for reading, refusing any file outside ``root``.

    NotFoundError when it is missing, is not a regular file, or leads outside the root;
    StoreUnavailableError when the system refuses to open it (permissions). ``after_check`` is
    called between the check of a link's target and the open (tests put the race there)."""
    base = os.path.realpath(root)
    parts = PurePath(relative).parts
    where = os.path.join(base, *parts)
    if not parts or PurePath(relative).is_absolute() or ".." in parts:
        raise NotFoundError(f"{where} is not a file under {base}")
    try:
        try:
            return _walk(base, parts, linked=False)
        except _Link:
            pass
        # A link on the way: where does it lead, now?
        target = os.path.realpath(where)
        if os.path.commonpath([base, target]) != base or target == base:
            raise NotFoundError(f"{where} leads outside {base} (a symbolic link); refused")
        checked = os.stat(target)
        if after_check is not None:
            after_check()
        try:
            opened = _walk(base, PurePath(os.path.relpath(target, base)).parts, linked=True)
        except _Link:  # a link swapped in since the check
            raise NotFoundError(f"{where} changed into a symbolic link while opened") from None
        st = os.fstat(opened.file.fileno())
        if (st.st_dev, st.st_ino) != (checked.st_dev, checked.st_ino):
            opened.file.close()
            raise NotFoundError(f"{where} was replaced while opened; refused")
        return opened
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(f"{where} does not exist") from None
    except NotFoundError:
        raise
    except OSError as e:
        raise StoreUnavailableError(f"Cannot read {where}: {e.strerror or e}") from e


def _walk(base: str, parts: tuple[str, ...], *, linked: bool) -> ConfinedFile:
    """Open ``parts`` below the directory ``base`` without following any link."""
    fd = os.open(base, _ROOT)  # the root itself is trusted, as configured
    try:
        for i, name in enumerate(parts):
            try:
                inner = os.open(name, _READ if i == len(parts) - 1 else _DIR, dir_fd=fd)
            except OSError as e:
                if e.errno in _LINK_ERRNOS and _is_link(name, fd):
                    raise _Link from None
                raise
            os.close(fd)
            fd = inner
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotFoundError(f"{os.path.join(base, *parts)} is not a regular file")
        os.set_blocking(fd, True)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return ConfinedFile(file, Path(base, *parts), st.st_size, linked)


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


__all__ = ["ConfinedFile", "open_confined"]
