"""REST handlers that show an artifact in the page rather than download it: its preview (a
table head, the first lines) and the file itself for images and HTML reports. Both open the
file as the download route does (:func:`jupyter_mlops.views.artifact_file`: only names the run
logged, symlinks resolved, nothing outside the store)."""

from __future__ import annotations

from typing import Any

from tornado.ioloop import IOLoop

from .. import bounds
from ..views.artifacts import DEFAULT_ROWS, MAX_ROWS, InlineArtifact, artifact_preview
from ..views.artifacts import inline_artifact as open_inline
from .base import CHUNK, MLOpsHandler

# An HTML artifact is a report a notebook wrote: shown with no script, in an origin of its
# own (CSP sandbox without allow-scripts or allow-same-origin), so it can neither run code in
# Jupyter's origin nor read its cookies, even when opened directly rather than in the panel's
# sandboxed iframe. Its own inline styles and data: images still show.
HTML_POLICY = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
# An image (an SVG may hold scripts) gets the same sandbox.
IMAGE_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


class ArtifactPreviewHandler(MLOpsHandler):
    """``GET runs/ID/preview/NAME?rows=N``: what the run detail shows of artifact NAME (an
    image or HTML report to show from ``inline/NAME``, a CSV or Parquet head of N rows, a text
    file's first lines, its size in kB or MB)."""

    def read(self, run_id: str, name: str) -> Any:
        rows = bounds.parse_int(self.param("rows") or str(DEFAULT_ROWS), "rows", 1, MAX_ROWS)
        return artifact_preview(self.ctx.tracker(), run_id, name, rows)


class ArtifactInlineHandler(MLOpsHandler):
    """``GET runs/ID/inline/NAME``: an image or HTML artifact with its own media type, to show
    in the page; HTML comes with a ``Content-Security-Policy: sandbox`` header (no scripts, no
    same origin). Other files: 400 (download them from ``artifacts/NAME``)."""

    def read(self, run_id: str, name: str) -> Any:
        return open_inline(self.ctx.tracker(), run_id, name)

    async def respond(self, result: Any) -> None:
        inline: InlineArtifact = result
        art = inline.file
        html = not inline.media_type.startswith("image/")
        self.set_header("Content-Security-Policy", HTML_POLICY if html else IMAGE_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "private, max-age=0, must-revalidate")
        self.set_header("Content-Length", str(art.size))
        kind = inline.media_type + ("; charset=utf-8" if html else "")
        loop = IOLoop.current()
        with art.file as f:
            while chunk := await loop.run_in_executor(self.ctx.executor, f.read, CHUNK):
                self.write(chunk)
                await self.flush()
        await self.finish(set_content_type=kind)
