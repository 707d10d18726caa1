"""A look inside one artifact of a run (``GET runs/ID/preview/NAME``): what the run detail shows
without a download. Images and HTML reports are shown from the file itself (``GET
runs/ID/inline/NAME``, HTML in a sandbox); a CSV or Parquet file's head comes as a small table,
a text file's first lines as text. Every read is bounded: at most :data:`MAX_BYTES` of the file,
:data:`MAX_ROWS` rows of :data:`MAX_COLUMNS` columns, :data:`MAX_LINES` lines, cells of
:data:`MAX_CELL` characters, however large the artifact."""

from __future__ import annotations

import codecs
import csv
import io
import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from ..exceptions import ValidationError
from .detail import artifact_file
from .values import View

if TYPE_CHECKING:
    from ..tracking import Tracker

MAX_BYTES = 64 * 1024  # read from a CSV or text artifact, at most
MAX_ROWS = 100  # the largest head a caller may ask for
DEFAULT_ROWS = 10
MAX_COLUMNS = 30
MAX_LINES = 40
MAX_CELL = 200

PreviewKind = Literal["image", "table", "html", "text", "none"]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_TEXT_TYPES = frozenset({"application/json", "application/x-yaml", "application/yaml"})
_TEXT_SUFFIXES = frozenset({".log", ".md", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".jsonl"})


@dataclass(frozen=True)
class ArtifactPreview(View):
    """What the panel shows of an artifact: ``preview`` says how (``image`` and ``html`` are
    shown from ``GET runs/ID/inline/NAME``; ``table`` from ``columns``/``rows``; ``text`` from
    ``text``; ``none`` with ``note`` saying why). ``truncated``: more rows, columns or lines
    than shown. ``size_text`` is ``size`` for people ('12.3 kB')."""

    run_id: str
    name: str
    kind: str
    size: int
    size_text: str
    media_type: str
    preview: PreviewKind
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    total_rows: int | None = None
    text: str | None = None
    truncated: bool = False
    note: str = ""


def format_size(n: int) -> str:
    """Bytes for people, in SI units as file managers show them: '512 B', '12.3 kB', '4.56 MB'."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.5 or unit == "TB":
            return f"{value:.3g} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def media_type(name: str, kind: str) -> str:
    """The media type of an artifact, from its name (a figure without a suffix is a PNG)."""
    guessed, _ = mimetypes.guess_type(PurePosixPath(name).name, strict=False)
    if guessed is None and kind == "figure":
        return "image/png"
    return guessed or "application/octet-stream"


def artifact_preview(
    tracker: Tracker, run_id: str, name: str, rows: int = DEFAULT_ROWS
) -> ArtifactPreview:
    """The preview of artifact ``name`` of a run (the file opened as :func:`artifact_file`
    opens it: only names the run logged, nothing outside the store), with a head of ``rows``
    rows (1 to :data:`MAX_ROWS`) for a table."""
    if isinstance(rows, bool) or not 1 <= rows <= MAX_ROWS:
        raise ValidationError(f"rows must be between 1 and {MAX_ROWS}, got {rows!r}")
    art = artifact_file(tracker, run_id, name)
    kind = media_type(art.name, art.kind)
    suffix = PurePosixPath(art.name).suffix.lower()
    base: dict[str, Any] = {
        "run_id": tracker.get_run(run_id).id,
        "name": art.name,
        "kind": art.kind,
        "size": art.size,
        "size_text": format_size(art.size),
        "media_type": kind,
    }
    with art.file as f:
        if kind in IMAGE_TYPES:
            return ArtifactPreview(**base, preview="image")
        if kind in HTML_TYPES:
            return ArtifactPreview(**base, preview="html")
        if suffix in _TABLE_SUFFIXES:
            return _csv_head(base, f, _TABLE_SUFFIXES[suffix], rows)
        if suffix == ".parquet":
            return _parquet_head(base, f, rows)
        head = f.read(MAX_BYTES)
    if kind.startswith("text/") or kind in _TEXT_TYPES or suffix in _TEXT_SUFFIXES:
        return _text_head(base, head, art.size)
    if b"\0" not in head[:8192] and _utf8(head) is not None:  # a text file of another suffix
        return _text_head(base, head, art.size)
    what = "a model" if art.kind == "model" else f"a binary file ({kind})"
    return ArtifactPreview(**base, preview="none", note=f"{what}: no preview; download it")


def _utf8(data: bytes) -> str | None:
    """``data`` decoded, a multi-byte character cut at the end forgiven; None if not UTF-8."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return None


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _text_head(base: dict[str, Any], head: bytes, size: int) -> ArtifactPreview:
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    shown = [_cell(line) for line in lines[:MAX_LINES]]
    truncated = len(lines) > MAX_LINES or size > len(head)
    return ArtifactPreview(**base, preview="text", text="\n".join(shown), truncated=truncated)


def _csv_head(base: dict[str, Any], f: BinaryIO, delimiter: str, rows: int) -> ArtifactPreview:
    head = f.read(MAX_BYTES)
    complete = len(head) < MAX_BYTES
    text = head.decode("utf-8", errors="replace")
    if not complete:  # the last line read may be cut short: leave it out
        text = text[: text.rfind("\n") + 1]
    try:
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as e:
        note = f"not readable as CSV ({e}); download it"
        return ArtifactPreview(**base, preview="none", note=note)
    records = [r for r in records if r]
    if not records:
        return ArtifactPreview(**base, preview="none", note="an empty table")
    header, body = records[0], records[1:]
    wide = len(header) > MAX_COLUMNS
    return ArtifactPreview(
        **base,
        preview="table",
        columns=tuple(_cell(c) for c in header[:MAX_COLUMNS]),
        rows=tuple(tuple(_cell(c) for c in r[:MAX_COLUMNS]) for r in body[:rows]),
        total_rows=len(body) if complete else None,
        truncated=wide or len(body) > rows or not complete,
    )


def _parquet_head(base: dict[str, Any], f: BinaryIO, rows: int) -> ArtifactPreview:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # Reads the footer, then only the first row group's first columns: bounded whatever
        # the file's size.
        pf = pq.ParquetFile(f)
        names = pf.schema_arrow.names
        batch = next(pf.iter_batches(batch_size=rows, columns=names[:MAX_COLUMNS]), None)
    except (pa.ArrowException, OSError) as e:
        return ArtifactPreview(**base, preview="none", note=f"not readable as Parquet: {e}")
    columns = batch.to_pydict() if batch is not None else {}
    body = list(zip(*columns.values(), strict=True)) if columns else []
    total = pf.metadata.num_rows
    return ArtifactPreview(
        **base,
        preview="table",
        columns=tuple(_cell(c) for c in names[:MAX_COLUMNS]),
        rows=tuple(tuple(_cell(v) for v in r) for r in body),
        total_rows=total,
        truncated=len(names) > MAX_COLUMNS or total > len(body),
    )


@dataclass(frozen=True)
class InlineArtifact:
    """An image or HTML artifact opened to be shown in the page (stream ``file.file``, close
    it); ``media_type`` is what the response declares."""

    file: Any  # an ArtifactFile
    media_type: str


def inline_artifact(tracker: Tracker, run_id: str, name: str) -> InlineArtifact:
    """Artifact ``name`` of a run opened for showing in the page: only images and HTML reports
    (which the server sends in a sandbox), opened as :func:`artifact_file` opens it."""
    art = artifact_file(tracker, run_id, name)
    kind = media_type(art.name, art.kind)
    if kind not in IMAGE_TYPES | HTML_TYPES:
        art.file.close()
        raise ValidationError(
            f"Artifact {art.name!r} is {kind}: only images and HTML are shown inline; "
            "download it from runs/ID/artifacts/NAME"
        )
    return InlineArtifact(art, kind)
