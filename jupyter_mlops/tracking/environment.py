"""What a run records about the machine: Python, platform, imported packages, git state, memory.

Everything here is cached or runs off the hot path: ``%%track`` must add only milliseconds, and
``git status`` alone costs more than that, so git state is probed on a background thread that a
run joins at its end (or after it is recorded, updating the row). Package versions come from one
scan of the installation (cached on disk per installation), made on a background thread when
the extension loads; a run that ends before it is ready gets its environment recorded later.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..entities import Environment, GitState

_pkg_lock = threading.Lock()  # guards the environment cache below
_env_cache: dict[str, Any] = {"n_modules": -1, "env": None}  # env: Environment | None
_dist_lock = threading.Lock()  # one scan of the installation at a time
# (top-level module -> distributions, distribution -> version), loaded once per process
_dists: tuple[Mapping[str, list[str]], dict[str, str | None]] | None = None
_probe: Future[Environment] | None = None


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jupyter-mlops" / "distributions-v2.json"


def _installation_key() -> str:
    """Changes whenever a package is installed or removed: the mtimes of the sys.path dirs."""
    parts = [sys.prefix]
    for entry in sys.path:
        try:
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(entry)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _scan_installation() -> tuple[Mapping[str, list[str]], dict[str, str | None]]:
    """Top-level module -> distributions, and every distribution's version, from the installed
    metadata files. Equivalent to ``packages_distributions()`` plus ``version()`` for each, but
    read with plain string operations: those build a Path per RECORD line and run the e-mail
    parser per package, 0.3-1.5 s, which would compete with the user's first cell for the GIL."""
    from importlib.metadata import distributions

    dists: dict[str, list[str]] = {}
    versions: dict[str, str | None] = {}
    for d in distributions():
        name, version = _name_and_version(d.read_text("METADATA") or d.read_text("PKG-INFO"))
        if not name:
            continue
        versions.setdefault(name, version)
        for module in _top_level_names(d):
            dists.setdefault(module, [])
            if name not in dists[module]:
                dists[module].append(name)
    return dists, versions


def _name_and_version(metadata: str | None) -> tuple[str | None, str | None]:
    name = version = None
    for line in (metadata or "").splitlines():
        if not line:  # the end of the headers
            break
        if line.startswith("Name:") and name is None:
            name = line[5:].strip()
        elif line.startswith("Version:") and version is None:
            version = line[8:].strip()
    return name, version


def _top_level_names(d: Any) -> set[str]:
    top_level = d.read_text("top_level.txt")
    if top_level:
        return {n.strip() for n in top_level.split() if n.strip()}
    names = set()
    for line in (d.read_text("RECORD") or "").splitlines():
        path = line.split(",", 1)[0]
        first, sep, _ = path.partition("/")
        if sep:  # a package directory
            if not first.endswith((".dist-info", ".egg-info", ".data")) and first not in (
                "..",
                "__pycache__",
            ):
                names.add(first)
        elif first.endswith(".py"):  # a single-module distribution
            names.add(first[:-3])
    return names


def _distributions() -> tuple[Mapping[str, list[str]], dict[str, str | None]]:
    """Top-level module -> distributions, and distribution -> version. A kernel reuses the
    answer from an on-disk cache keyed on the installation, so only the first kernel after an
    install scans it (on a background thread, see :func:`prewarm`)."""
    global _dists
    with _dist_lock:
        if _dists is not None:
            return _dists
        key, path = _installation_key(), _cache_file()
        try:
            cached = json.loads(path.read_text())
            if cached.get("key") == key:
                _dists = (cached["dists"], cached["versions"])
                return _dists
        except (OSError, ValueError, AttributeError, KeyError):
            pass
        dists, versions = _scan_installation()
        _dists = (dists, versions)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "dists": dists, "versions": versions}))
            os.replace(tmp, path)
        except OSError:  # a read-only home: just no cache
            pass
        return _dists


def _version(dist: str, versions: dict[str, str | None]) -> str | None:
    if dist not in versions:  # installed after the scan
        from importlib.metadata import PackageNotFoundError, version

        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    return versions[dist]


def imported_packages() -> dict[str, str]:
    """Distribution name -> version for every third-party top-level module imported so far."""
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    dists, versions = _distributions()
    out: dict[str, str] = {}
    for name in list(sys.modules):
        if "." in name or name.startswith("_") or name in stdlib:
            continue
        for dist in dists.get(name, ()):
            v = _version(dist, versions)
            if v is not None:
                out[dist] = v
    return dict(sorted(out.items()))


def current_environment() -> Environment:
    """The environment of this process, recomputed only when new modules were imported."""
    with _pkg_lock:
        n = len(sys.modules)
        env: Environment | None = _env_cache["env"]
        if env is None or n != _env_cache["n_modules"]:
            packages = imported_packages()
            py = sys.version.split()[0]
            plat = _platform()
            digest = hashlib.sha256(json.dumps([py, plat, packages]).encode()).hexdigest()[:16]
            env = Environment(id=digest, python=py, platform=plat, packages=packages)
            _env_cache["env"], _env_cache["n_modules"] = env, n
        return env


@lru_cache(maxsize=1)
def _platform() -> str:
    return platform.platform()  # runs `uname` and parses libc: once per process


def prewarm() -> None:
    """Scan the installation on a background thread now (an extension being loaded), so the
    first tracked cell finds the package versions ready."""
    if _dists is None:
        threading.Thread(target=_warm, daemon=True, name="jupyter-mlops-env").start()


def _warm() -> None:
    _distributions()
    _platform()


def environment_nowait() -> Environment | Future[Environment]:
    """The environment now if that is cheap (the installation has been read), else a future
    computed on a background thread: a cell never waits for a scan of the installation."""
    global _probe
    if _dists is not None:
        return current_environment()
    with _pkg_lock:
        if _probe is None or _probe.done():
            _probe = Future()
            threading.Thread(
                target=_fill, args=(_probe,), daemon=True, name="jupyter-mlops-env"
            ).start()
        return _probe


def _fill(f: Future[Environment]) -> None:
    try:
        f.set_result(current_environment())
    except Exception as e:  # never let a probe thread die without an answer
        f.set_exception(e)


# -- git -------------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> bytes | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state(cwd: str | os.PathLike[str] | None = None) -> GitState:
    """Commit, branch, dirty flag and a hash of the uncommitted diff of the repo around ``cwd``.

    Uses the working directory (a kernel's is the notebook's folder), not ``sys.argv[0]``, which
    in a kernel points into site-packages.
    """
    where = Path(cwd or os.getcwd())
    # One process for both: the commit, then the branch ("HEAD" when detached).
    heads = _git(["rev-parse", "HEAD", "--abbrev-ref", "HEAD"], where)
    if heads is None:
        return GitState()
    commit, _, branch = heads.partition(b"\n")
    status = _git(["status", "--porcelain", "--untracked-files=no"], where) or b""
    dirty = bool(status.strip())
    diff_hash = None
    if dirty:
        diff = _git(["diff", "HEAD", "--no-ext-diff", "--binary"], where) or b""
        diff_hash = hashlib.sha256(diff).hexdigest()[:16]
    return GitState(
        commit=commit.decode().strip(),
        branch=branch.decode().strip() or None,
        dirty=dirty,
        diff_hash=diff_hash,
    )


class GitProbe:
    """Single-flight background git probe: runs that start while one probe is in flight, or
    within ``ttl`` seconds of its end, share its result instead of spawning more processes."""

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._future: Future[GitState] | None = None
        self._done_at = 0.0
        self._cwd: str | None = None

    def request(self) -> Future[GitState]:
        cwd = os.getcwd()
        with self._lock:
            f = self._future
            if (
                f is not None
                and self._cwd == cwd
                and (not f.done() or time.monotonic() - self._done_at < self.ttl)
            ):
                return f
            f = Future()
            self._future, self._cwd = f, cwd
        threading.Thread(
            target=self._probe, args=(f, cwd), daemon=True, name="jupyter-mlops-git"
        ).start()
        return f

    def _probe(self, f: Future[GitState], cwd: str) -> None:
        try:
            state = git_state(cwd)
        except Exception as e:  # never let a probe thread die silently without an answer
            f.set_exception(e)
            return
        self._done_at = time.monotonic()
        f.set_result(state)


# -- memory ----------------------------------------------------------------------------------


def _status_kb(field: bytes) -> int | None:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@lru_cache(maxsize=1)
def _page_size() -> int:
    return os.sysconf("SC_PAGE_SIZE")


def _rss() -> int | None:
    """The current RSS in bytes: VmRSS, read from ``statm``, one short line, where ``status``
    formats some fifty (it runs under every tracked cell)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _page_size()
    except (OSError, ValueError, IndexError):
        return _status_kb(b"VmRSS:")


def reset_peak_rss() -> int | None:
    """Reset the kernel's peak-RSS counter (Linux) and return the current RSS in bytes."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _rss()


def peak_rss() -> int | None:
    """Peak RSS in bytes since the last reset (Linux), or the process's lifetime peak."""
    peak = _status_kb(b"VmHWM:")
    if peak is None:
        try:
            import resource

            scale = 1 if sys.platform == "darwin" else 1024
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
        except (ImportError, OSError):
            return None
    return peak
